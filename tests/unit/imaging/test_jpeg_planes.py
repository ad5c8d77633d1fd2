"""Re-encoding a YCbCr JPEG through its planes (libturbojpeg), checked against Pillow's RGB path."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from pointcare.imaging import jpeg_markers, jpeg_planes
from tests.support.tools import require_turbojpeg
from tests.unit.imaging.images import decode, exif_with, jpeg_bytes, mean_difference, scene


@pytest.fixture(autouse=True)
def _library() -> None:
    require_turbojpeg()


def _through_rgb(jpeg: bytes, quality: int = 95) -> bytes:
    """What the RGB path makes of ``jpeg``: Pillow's decode, exif_transpose and encode."""
    with Image.open(io.BytesIO(jpeg)) as image:
        upright = ImageOps.exif_transpose(image)
    buffer = io.BytesIO()
    upright.save(buffer, "JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def _tables(jpeg: bytes) -> list[bytes]:
    return [s.data for s in jpeg_markers.parse(jpeg).segments if s.marker == jpeg_markers.DQT]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_orientation_gives_the_picture_the_rgb_path_gives(orientation: int) -> None:
    # 168 x 120: neither side is whole 16-pixel MCUs, so no lossless turn exists.
    original = jpeg_bytes(scene((168, 120)), subsampling=2, exif=exif_with(orientation))
    result = jpeg_planes.recompress_upright(original, orientation, 95)

    assert result is not None
    expected = decode(_through_rgb(original))
    picture = decode(result.jpeg)
    assert picture.size == expected.size
    # The two differ only by rounding (one colour conversion each way fewer); a wrong turn, or
    # chroma shifted against luma, differs by tens.
    assert mean_difference(picture, expected) < 1.5
    # The planes handed back for the thumbnail are the picture's, upright (turned or not).
    assert mean_difference(result.planes[0], decode(result.jpeg, "L")) < 1.5


def test_it_compresses_like_pillow_at_the_same_quality_and_keeps_4_2_0() -> None:
    original = jpeg_bytes(scene((168, 120)), subsampling=2, quality=80)
    result = jpeg_planes.recompress_upright(original, 6, 95)

    assert result is not None
    stored = jpeg_markers.parse(result.jpeg)
    assert stored.frame.is_baseline
    assert stored.chroma_subsampling == "4:2:0"
    assert _tables(result.jpeg) == _tables(_through_rgb(original))
    markers = {s.marker for s in stored.segments}
    assert not markers & ({*range(0xE1, 0xF0), 0xFE})  # at most the JFIF APP0


def test_a_progressive_jpeg_comes_back_baseline() -> None:
    original = jpeg_bytes(scene(), subsampling=2, progressive=True)
    result = jpeg_planes.recompress_upright(original, 1, 95)
    assert result is not None
    assert jpeg_markers.parse(result.jpeg).frame.is_baseline
    assert mean_difference(decode(result.jpeg), decode(original)) < 1.5


def test_a_greyscale_jpeg_keeps_one_plane() -> None:
    original = jpeg_bytes(scene((168, 120), mode="L"), exif=exif_with(8))
    result = jpeg_planes.recompress_upright(original, 8, 95)
    assert result is not None
    assert len(result.planes) == 1
    assert len(jpeg_markers.parse(result.jpeg).frame.components) == 1
    assert mean_difference(decode(result.jpeg), decode(_through_rgb(original))) < 1.5


@pytest.mark.parametrize(("orientation", "handled"), [(2, True), (3, True), (6, False), (5, False)])
def test_4_2_2_is_handled_unless_turned_a_quarter(orientation: int, handled: bool) -> None:
    """Turned a quarter, 4:2:2 chroma would be full width and half height: 4:4:0."""
    original = jpeg_bytes(scene((168, 120)), subsampling=1)
    result = jpeg_planes.recompress_upright(original, orientation, 95)
    assert (result is not None) is handled
    if result is not None:
        assert jpeg_markers.parse(result.jpeg).chroma_subsampling == "4:2:2"


def test_4_4_4_is_left_to_the_rgb_path() -> None:
    """It must become 4:2:0 (YBR_FULL is not allowed for VL images), which needs a resampling."""
    assert jpeg_planes.recompress_upright(jpeg_bytes(scene(), subsampling=0), 1, 95) is None


@pytest.mark.parametrize(("size", "orientation"), [((167, 120), 2), ((168, 119), 6)])
def test_an_odd_side_is_left_to_the_rgb_path_when_it_moves(
    size: tuple[int, int], orientation: int
) -> None:
    """Its last chroma sample covers a single pixel: flipped, every chroma sample would shift."""
    original = jpeg_bytes(scene(size), subsampling=2)
    assert jpeg_planes.recompress_upright(original, orientation, 95) is None
    assert jpeg_planes.recompress_upright(original, 1, 95) is not None


def test_damaged_data_is_left_to_the_decoder() -> None:
    whole = jpeg_bytes(scene((320, 240)), subsampling=2)
    assert jpeg_planes.recompress_upright(whole[: len(whole) // 2], 6, 95) is None
    assert jpeg_planes.recompress_upright(b"not a jpeg at all", 6, 95) is None
