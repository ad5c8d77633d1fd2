"""Lossless turns of a JPEG's blocks (libturbojpeg), checked against Pillow turning pixels."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from pointcare.imaging import jpeg_markers, jpeg_transform
from tests.support.tools import require_turbojpeg
from tests.unit.imaging.images import decode, exif_with, jpeg_bytes, mean_difference, scene


@pytest.fixture(autouse=True)
def _library() -> None:
    require_turbojpeg()


def _scan(jpeg: bytes) -> bytes:
    return next(s.data for s in jpeg_markers.parse(jpeg).segments if s.marker == 0xDA)


@pytest.mark.parametrize("orientation", range(2, 9))
def test_each_turn_shows_what_turning_the_decoded_pixels_shows(orientation: int) -> None:
    original = jpeg_bytes(scene((320, 240)), subsampling=2, exif=exif_with(orientation))
    turned = jpeg_transform.upright(original, orientation)

    assert turned is not None
    with Image.open(io.BytesIO(original)) as image:
        expected = ImageOps.exif_transpose(image).convert("RGB")
    picture = decode(turned)
    assert picture.size == expected.size
    # Only the chroma upsampling's rounding differs; a wrong turn differs by tens.
    assert mean_difference(picture, expected) < 1


@pytest.mark.parametrize(("orientation", "inverse"), [(3, 3), (6, 8), (2, 2), (5, 5)])
def test_a_turn_and_its_inverse_give_back_the_same_compressed_data(
    orientation: int, inverse: int
) -> None:
    """Nothing is decoded to pixels and re-quantised: the blocks come back bit for bit."""
    original = jpeg_bytes(scene((320, 240)), subsampling=2, quality=90)
    turned = jpeg_transform.upright(original, orientation)
    assert turned is not None
    back = jpeg_transform.upright(turned, inverse)
    assert back is not None
    assert _scan(back) == _scan(original)


def test_metadata_is_not_copied() -> None:
    original = jpeg_bytes(scene((320, 240)), subsampling=2, exif=exif_with(6, gps=True))
    turned = jpeg_transform.upright(original, 6)
    assert turned is not None
    markers = {s.marker for s in jpeg_markers.parse(turned).segments}
    assert not markers & ({*range(0xE1, 0xF0), 0xFE})  # at most the JFIF APP0


@pytest.mark.parametrize(
    ("size", "orientation"),
    [((328, 240), 2), ((320, 248), 6), ((328, 248), 3)],
    ids=["width-flip", "height-quarter", "both-half"],
)
def test_a_turn_that_would_move_a_partial_block_is_declined(
    size: tuple[int, int], orientation: int
) -> None:
    assert jpeg_transform.upright(jpeg_bytes(scene(size), subsampling=2), orientation) is None


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize(
    ("size", "subsampling", "mode"),
    [
        ((160, 128), 2, "RGB"),
        ((168, 128), 2, "RGB"),
        ((160, 120), 2, "RGB"),
        ((168, 120), 2, "RGB"),
        ((160, 120), 1, "RGB"),
        ((168, 124), 0, "RGB"),
        ((164, 120), 0, "RGB"),
        ((164, 124), 2, "L"),
    ],
)
def test_the_forecast_agrees_with_the_library(
    orientation: int, size: tuple[int, int], subsampling: int, mode: str
) -> None:
    original = jpeg_bytes(scene(size, mode), subsampling=subsampling)
    frame = jpeg_markers.parse(original).frame
    turned = jpeg_transform.upright(original, orientation)
    assert jpeg_transform.is_exact(frame, orientation) is (turned is not None)


def test_a_transpose_never_moves_a_partial_block() -> None:
    assert jpeg_transform.upright(jpeg_bytes(scene((328, 248)), subsampling=2), 5) is not None


def test_damaged_data_is_declined_not_padded() -> None:
    whole = jpeg_bytes(scene((320, 240)), subsampling=2)
    assert jpeg_transform.upright(whole[: len(whole) // 2], 6) is None
    assert jpeg_transform.upright(b"not a jpeg at all", 6) is None
