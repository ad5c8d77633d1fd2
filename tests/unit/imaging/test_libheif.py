"""HEIF primary images decoded by libheif as stored and turned by Pillow, checked against
pillow_heif, which lets libheif turn them."""

from __future__ import annotations

import io
import logging
import random
import struct

import pytest
from PIL import Image, ImageChops

from pointcare.imaging import libheif, photo
from pointcare.imaging.photo import PhotoRejected, UnreadableImage, normalise_photo
from tests.support.tools import corpus
from tests.unit.imaging.images import MARK, exif_with, scene


def _pillow_heif_decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data), formats=["HEIF"]) as image:
        image.load()
        return image.copy()


def _heic(image: Image.Image, orientation: int) -> bytes:
    """A HEIC whose EXIF orientation pillow_heif writes as HEIF transformations (irot, imir),
    after the clean-aperture crop the encoder adds (48 rows coded as 64)."""
    buffer = io.BytesIO()
    image.save(buffer, format="HEIF", quality=90, exif=exif_with(orientation))
    return buffer.getvalue()


def test_the_library_pillow_heif_uses_is_found() -> None:
    assert libheif.available()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_rotation_mirror_and_crop_gives_pillow_heifs_pixels(orientation: int) -> None:
    data = _heic(scene((64, 48)), orientation)

    decoded = libheif.decode_primary(data, None)

    assert decoded is not None
    expected = _pillow_heif_decode(data)
    assert decoded.mode == "RGB"
    assert decoded.size == expected.size == ((64, 48) if orientation < 5 else (48, 64))
    assert ImageChops.difference(decoded, expected).getbbox() is None


def test_a_portrait_photo_comes_out_upright() -> None:
    # Orientation 6: the sensor's picture is turned a quarter clockwise to be seen.
    seen = scene((48, 64))
    decoded = libheif.decode_primary(_heic(seen.transpose(Image.Transpose.ROTATE_90), 6), None)
    assert decoded is not None
    assert decoded.size == (48, 64)
    red, green, blue = decoded.getpixel((4, 4))  # type: ignore[misc]
    assert abs(red - MARK[0]) < 24 and abs(green - MARK[1]) < 24 and abs(blue - MARK[2]) < 40


@pytest.mark.parametrize("name", ["iphone_13_pro_max.heic", "iphone_IMG_5195.heic"])
def test_iphone_photos_give_pillow_heifs_pixels(name: str) -> None:
    data = corpus("photos", "heic", name).read_bytes()
    decoded = libheif.decode_primary(data, None)
    assert decoded is not None
    assert ImageChops.difference(decoded, _pillow_heif_decode(data)).getbbox() is None


def _with_vertical_offset(data: bytes, offset: int) -> bytes:
    """``data`` with its clean aperture's vertical offset numerator set to ``offset`` (the
    encoder wrote -16/2: the 48 rows centred in 64)."""
    start = data.index(b"clap") + 4 + 6 * 4
    return data[:start] + struct.pack(">i", offset) + data[start + 4 :]


@pytest.mark.parametrize("offset", [-40, 100])
def test_a_damaged_crop_is_applied_as_libheif_applies_it(
    offset: int, caplog: pytest.LogCaptureFixture
) -> None:
    data = _with_vertical_offset(_heic(scene((64, 48)), 6), offset)

    with caplog.at_level(logging.INFO, logger=libheif.__name__):
        decoded = libheif.decode_primary(data, None)

    assert "left to libheif" in caplog.text  # outside the image: not cropped by Pillow
    assert decoded is not None
    assert ImageChops.difference(decoded, _pillow_heif_decode(data)).getbbox() is None


def test_a_crop_libheif_refuses_is_refused() -> None:
    data = _with_vertical_offset(_heic(scene((64, 48)), 6), 1000)
    with pytest.raises(libheif.HeifError, match="clean-aperture"):
        libheif.decode_primary(data, None)
    with pytest.raises(UnreadableImage):
        normalise_photo(data, max_pixels=20_000_000)


@pytest.mark.parametrize("name", ["corrupted.heic", "empty.heic"])
def test_a_broken_file_raises(name: str) -> None:
    # (truncated.heic is refused too, by its secondary images: see test_photo_rejections.)
    with pytest.raises(libheif.HeifError):
        libheif.decode_primary(corpus("photos", "invalid", name).read_bytes(), None)


def test_without_the_library_pillow_heif_decodes_the_same_photo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = corpus("photos", "heic", "iphone_13_pro_max.heic").read_bytes()
    direct = normalise_photo(data, max_pixels=20_000_000)

    monkeypatch.setattr(libheif, "library", lambda: None)
    through_pillow_heif = normalise_photo(data, max_pixels=20_000_000)

    assert through_pillow_heif == direct


def test_a_heic_with_transparency_is_decoded_by_pillow_heif(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(data: bytes, icc: bytes | None) -> None:
        raise AssertionError("only plain RGB photos are decoded directly")

    monkeypatch.setattr(libheif, "decode_primary", refuse)
    buffer = io.BytesIO()
    scene((64, 48)).convert("RGBA").save(buffer, format="HEIF", quality=90)

    stored = normalise_photo(buffer.getvalue(), max_pixels=20_000_000)

    assert (stored.columns, stored.rows) == (64, 48)


def test_a_refusal_from_libheif_is_a_message_for_the_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(data: bytes, icc: bytes | None) -> None:
        raise libheif.HeifError("Invalid input: Unspecified: corrupt tile")

    monkeypatch.setattr(photo.libheif, "decode_primary", refuse)
    with pytest.raises(UnreadableImage, match="could not be read"):
        normalise_photo(_heic(scene((64, 48)), 1), max_pixels=20_000_000)


def test_colours_are_brought_to_srgb_before_or_after_pillow_copies_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = corpus("photos", "heic", "iphone_IMG_5195.heic").read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        p3: bytes = image.info["icc_profile"]
    in_libheifs_buffer = libheif.decode_primary(data, p3)

    monkeypatch.setattr(libheif.colour, "srgb_in_place", lambda pixels, icc: False)
    by_imagecms = libheif.decode_primary(data, p3)

    assert in_libheifs_buffer is not None and by_imagecms is not None
    assert in_libheifs_buffer.tobytes() == by_imagecms.tobytes()
    assert in_libheifs_buffer.tobytes() != _pillow_heif_decode(data).tobytes()


def _damaged(data: bytes, rng: random.Random) -> bytes:
    """``data`` with a few bits flipped, a few bytes replaced, or its end cut off."""
    damaged = bytearray(data)
    match rng.randrange(3):
        case 0:
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        case 1:
            at = rng.randrange(len(damaged))
            damaged[at : at + 4] = rng.randbytes(4)
        case _:
            del damaged[rng.randrange(len(damaged)) :]
    return bytes(damaged)


def _outcome(data: bytes) -> object:
    try:
        return normalise_photo(data, max_pixels=20_000_000)
    except PhotoRejected as refusal:
        return type(refusal).__name__


def test_damaged_files_are_stored_or_refused_as_pillow_heif_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1,000 such files (and the iPhone photos) were compared this way while the direct decode
    # was written; these 120 keep the comparison.
    rng = random.Random(2026)
    originals = [_heic(scene((64, 48)), orientation) for orientation in (1, 5, 6)]
    files = [_damaged(rng.choice(originals), rng) for _ in range(120)]
    direct = [_outcome(data) for data in files]

    monkeypatch.setattr(libheif, "library", lambda: None)
    through_pillow_heif = [_outcome(data) for data in files]

    assert direct == through_pillow_heif
    assert 10 < sum(isinstance(outcome, str) for outcome in direct) < 110  # both kinds occur
