"""Which photos keep their compressed data, and what re-encoding does to the others."""

from __future__ import annotations

import io
from collections.abc import Callable

import pillow_heif
import pytest
from PIL import Image, ImageFile

from pointcare.imaging import jpeg_markers, turbojpeg
from pointcare.imaging.formats import PhotoFormat
from pointcare.imaging.photo import NormalisedPhoto, UnreadableImage, normalise_photo
from tests.support.dicom_checks import jpeg_frame, jpeg_has_metadata, jpeg_size
from tests.support.tools import corpus, require_turbojpeg
from tests.unit.imaging.images import (
    BLUE,
    MARK,
    RED,
    decode,
    exif_with,
    heic_bytes,
    jpeg_bytes,
    mean_difference,
    png_bytes,
    scene,
    srgb_icc,
    with_segment,
)

MAX_PIXELS = 10_000_000


def normalise(data: bytes) -> NormalisedPhoto:
    return normalise_photo(data, max_pixels=MAX_PIXELS)


def _p3_icc() -> bytes:
    with Image.open(corpus("photos", "heic", "iphone_IMG_5195.heic")) as image:
        icc: bytes = image.info["icc_profile"]
    return icc


def _close(colour: object, expected: tuple[int, ...], tolerance: int = 24) -> bool:
    assert isinstance(colour, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def test_phone_jpeg_with_gps_xmp_and_comment_keeps_its_pixels_and_loses_its_metadata() -> None:
    original = jpeg_bytes(scene(), subsampling=2, exif=exif_with(1, gps=True), comment=b"Flat 3")
    original = with_segment(original, 0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
    assert jpeg_has_metadata(original)

    photo = normalise(original)

    assert not photo.reencoded
    assert photo.source_format is PhotoFormat.JPEG
    assert not jpeg_has_metadata(photo.jpeg)
    assert b"Flat 3" not in photo.jpeg
    assert decode(photo.jpeg).tobytes() == decode(original).tobytes()


@pytest.mark.parametrize(("subsampling", "kept"), [(2, True), (1, True), (0, False)])
def test_only_chroma_subsampled_jpegs_are_kept(subsampling: int, kept: bool) -> None:
    photo = normalise(jpeg_bytes(scene(), subsampling=subsampling))
    assert photo.reencoded is not kept
    assert photo.photometric == "YBR_FULL_422"
    # A 4:4:4 photo is re-encoded at 4:2:0 so that YBR_FULL_422 describes it.
    assert jpeg_markers.parse(photo.jpeg).chroma_subsampling in {"4:2:0", "4:2:2"}


def test_srgb_profile_is_kept_and_display_p3_is_converted() -> None:
    srgb = normalise(jpeg_bytes(scene(), icc_profile=srgb_icc()))
    p3 = normalise(jpeg_bytes(scene(), icc_profile=_p3_icc()))
    assert not srgb.reencoded
    assert p3.reencoded
    assert not jpeg_has_metadata(srgb.jpeg)
    assert not jpeg_has_metadata(p3.jpeg)
    # The same numbers mean a more saturated blue in P3: in sRGB they grow further apart.
    converted = decode(p3.jpeg).getpixel((100, 20))
    assert isinstance(converted, tuple)
    assert converted[2] - converted[0] > BLUE[2] - BLUE[0]


_CORNER = {1: (0, 0), 2: (1, 0), 3: (1, 1), 4: (0, 1), 5: (0, 0), 6: (1, 0), 7: (1, 1), 8: (0, 1)}
"""EXIF orientation -> where a viewer honouring it shows the stored top-left corner."""


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("size", "lossless"),
    [((160, 128), set(range(1, 9))), ((168, 120), {1, 5})],
    ids=["whole-mcus", "partial-mcus"],
)
def test_exif_orientation_is_applied_to_the_pixels(
    orientation: int, size: tuple[int, int], lossless: set[int]
) -> None:
    """The scene's yellow block lands where a viewer honouring EXIF would show it. With whole
    16-pixel MCUs every turn is lossless; otherwise only a transpose is (the others would move a
    partial edge block), and the photo is re-encoded instead."""
    if orientation in lossless - {1}:
        require_turbojpeg()
    stored = scene(size)
    photo = normalise(jpeg_bytes(stored, subsampling=2, exif=exif_with(orientation)))

    assert photo.reencoded is (orientation not in lossless)
    assert not jpeg_has_metadata(photo.jpeg)
    turned = orientation in {5, 6, 7, 8}
    width, height = size
    assert (photo.columns, photo.rows) == ((height, width) if turned else (width, height))
    for picture in (decode(photo.jpeg), decode(photo.thumbnail)):
        corner = _CORNER[orientation]
        x = 5 if corner[0] == 0 else picture.width - 6
        y = 5 if corner[1] == 0 else picture.height - 6
        assert _close(picture.getpixel((x, y)), MARK)
        assert (picture.width > picture.height) is (photo.columns > photo.rows)
    if orientation not in lossless:
        assert jpeg_markers.parse(photo.jpeg).chroma_subsampling == "4:2:0"


@pytest.mark.parametrize("orientation", [2, 3, 6, 8])
def test_a_lossless_turn_has_the_thumbnail_of_the_stored_picture(orientation: int) -> None:
    """The thumbnail is made from the upload, then turned, while the blocks turn on another
    core: it must be the one the stored picture would give."""
    require_turbojpeg()
    photo = normalise(jpeg_bytes(scene((640, 480)), subsampling=2, exif=exif_with(orientation)))
    assert not photo.reencoded
    stored = decode(photo.jpeg)
    expected = stored.reduce(-(-max(stored.size) // 320))
    thumbnail = decode(photo.thumbnail)
    assert thumbnail.size == expected.size
    assert mean_difference(thumbnail, expected) < 3


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: png_bytes(scene((900, 640))), id="png"),
        pytest.param(lambda: jpeg_bytes(scene((900, 640)), progressive=True), id="progressive"),
        pytest.param(lambda: png_bytes(scene((900, 640), mode="L")), id="grey"),
        pytest.param(lambda: jpeg_bytes(scene((640, 900)), exif=exif_with(6)), id="turned"),
    ],
)
def test_a_re_encoded_photo_has_the_thumbnail_of_the_stored_picture(
    upload: Callable[[], bytes],
) -> None:
    """The thumbnail is reduced on another core while the photo is encoded, from the same
    pixels: it must be the one the stored picture would give."""
    photo = normalise(upload())
    assert photo.reencoded
    stored = decode(photo.jpeg).convert("RGB")
    expected = stored.reduce(-(-max(stored.size) // 320))
    thumbnail = decode(photo.thumbnail)
    assert thumbnail.size == expected.size
    assert mean_difference(thumbnail, expected) < 3


def test_a_turn_that_cannot_be_lossless_is_re_encoded() -> None:
    require_turbojpeg()
    photo = normalise(jpeg_bytes(scene((168, 120)), subsampling=2, exif=exif_with(6)))
    assert photo.reencoded
    assert (photo.columns, photo.rows) == (120, 168)
    assert _close(decode(photo.jpeg).getpixel((120 - 6, 5)), MARK)


@pytest.mark.parametrize(("orientation", "lossless"), [(3, True), (6, False), (8, False)])
def test_a_422_jpeg_turned_a_quarter_is_re_encoded(orientation: int, lossless: bool) -> None:
    """Turned sideways, 4:2:2 would become 4:4:0, which YBR_FULL_422 does not describe."""
    if lossless:
        require_turbojpeg()
    photo = normalise(jpeg_bytes(scene((160, 128)), subsampling=1, exif=exif_with(orientation)))
    assert photo.reencoded is not lossless
    assert jpeg_markers.parse(photo.jpeg).chroma_subsampling in {"4:2:0", "4:2:2"}


def test_without_the_transform_library_a_rotated_jpeg_is_re_encoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(turbojpeg, "library", lambda: None)
    for size in ((160, 128), (168, 120)):  # a turn that could be lossless, one that cannot
        photo = normalise(jpeg_bytes(scene(size), subsampling=2, exif=exif_with(6)))
        assert photo.reencoded
        assert (photo.columns, photo.rows) == size[::-1]
        assert _close(decode(photo.jpeg).getpixel((size[1] - 6, 5)), MARK)


def test_a_truncated_rotated_jpeg_is_refused_not_turned() -> None:
    whole = jpeg_bytes(scene((640, 480)), subsampling=2, exif=exif_with(6))
    with pytest.raises(UnreadableImage):
        normalise(whole[: len(whole) * 2 // 3])


def test_xmp_orientation_counts_when_exif_has_none() -> None:
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<rdf:Description tiff:Orientation="6"/>'
    photo = normalise(with_segment(jpeg_bytes(scene((160, 120)), subsampling=2), 0xE1, xmp))
    assert photo.reencoded
    assert (photo.columns, photo.rows) == (120, 160)


def test_broken_exif_is_stripped_by_re_encoding_without_rotation() -> None:
    broken = with_segment(jpeg_bytes(scene((160, 120)), subsampling=2), 0xE1, b"Exif\x00\x00MM")
    photo = normalise(broken)
    assert photo.reencoded
    assert (photo.columns, photo.rows) == (160, 120)
    assert not jpeg_has_metadata(photo.jpeg)


def test_out_of_range_orientation_is_treated_as_upright() -> None:
    photo = normalise(jpeg_bytes(scene((160, 120)), subsampling=2, exif=exif_with(9)))
    assert not photo.reencoded
    assert not jpeg_has_metadata(photo.jpeg)


@pytest.mark.parametrize(
    "options",
    [{"progressive": True}, {"keep_rgb": True}],
    ids=["progressive", "rgb-components"],
)
def test_jpegs_a_dicom_viewer_may_misread_are_re_encoded_as_baseline_ycbcr(
    options: dict[str, bool],
) -> None:
    photo = normalise(jpeg_bytes(scene(), **options))
    assert photo.reencoded
    assert jpeg_frame(photo.jpeg)[:2] == (0xC0, 8)
    assert jpeg_markers.parse(photo.jpeg).is_ycbcr_or_grey
    assert _close(decode(photo.jpeg).getpixel((140, 110)), RED)


def test_cmyk_jpeg_becomes_rgb() -> None:
    photo = normalise(jpeg_bytes(scene(mode="CMYK")))
    assert photo.reencoded
    assert photo.photometric == "YBR_FULL_422"
    assert _close(decode(photo.jpeg).getpixel((140, 110)), RED, tolerance=40)


def test_greyscale_jpeg_is_kept_as_monochrome() -> None:
    photo = normalise(jpeg_bytes(scene(mode="L")))
    assert not photo.reencoded
    assert photo.photometric == "MONOCHROME2"
    assert len(jpeg_markers.parse(photo.jpeg).frame.components) == 1


def test_greyscale_png_is_re_encoded_as_monochrome() -> None:
    photo = normalise(png_bytes(scene(mode="L")))
    assert photo.reencoded
    assert photo.source_format is PhotoFormat.PNG
    assert photo.photometric == "MONOCHROME2"
    assert len(jpeg_markers.parse(photo.jpeg).frame.components) == 1


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (32, 32), 40000)
    photo = normalise(png_bytes(image))
    value = decode(photo.jpeg, "L").getpixel((16, 16))
    assert isinstance(value, (int, float))
    assert abs(value - 40000 // 256) <= 2


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_flattened_onto_white(mode: str) -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 20, 40))
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.convert("P")
        image.info["transparency"] = image.getpixel((30, 30))
    photo = normalise(png_bytes(image, transparency=image.info.get("transparency")))
    assert _close(decode(photo.jpeg).getpixel((35, 20)), (255, 255, 255), tolerance=6)


def test_heic_is_re_encoded() -> None:
    photo = normalise(heic_bytes(scene()))
    assert photo.reencoded
    assert photo.source_format is PhotoFormat.HEIF
    assert mean_difference(decode(photo.jpeg), scene()) < 12


def test_heic_with_several_whole_images_stores_the_primary() -> None:
    heif = pillow_heif.from_pillow(scene((64, 48)))
    heif.add_from_pillow(Image.new("RGB", (32, 32), MARK))
    buffer = io.BytesIO()
    heif.save(buffer, quality=60)
    photo = normalise(buffer.getvalue())
    assert (photo.columns, photo.rows) == (64, 48)


def test_thumbnail_of_a_small_photo_keeps_its_size() -> None:
    photo = normalise(jpeg_bytes(scene((30, 20)), subsampling=2))
    assert jpeg_size(photo.thumbnail) == (30, 20)
    assert decode(photo.thumbnail).mode == "RGB"


def test_thumbnail_of_a_greyscale_photo_is_rgb_and_at_most_320_pixels() -> None:
    photo = normalise(jpeg_bytes(scene((1000, 700), mode="L")))
    assert jpeg_size(photo.thumbnail) == (250, 175)  # a 4x box reduction
    with Image.open(io.BytesIO(photo.thumbnail)) as thumbnail:
        assert thumbnail.mode == "RGB"


def test_arguments_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    data = jpeg_bytes(scene())
    with pytest.raises(ValueError, match="max_pixels"):
        normalise_photo(data, max_pixels=0)
    with pytest.raises(ValueError, match="quality"):
        normalise_photo(data, max_pixels=MAX_PIXELS, quality=101)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        normalise_photo(data, max_pixels=MAX_PIXELS)
