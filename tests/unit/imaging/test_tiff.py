"""TIFF from desk scanners and dermatoscopes: decoded once, upright, sRGB, one JPEG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pointcare.imaging.formats import PhotoFormat, sniff
from pointcare.imaging.photo import PhotoRejected, normalise_photo
from tests.unit.imaging.images import scene

ORIENTATION = 0x0112


def _tiff(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", **options)
    return buffer.getvalue()


@pytest.mark.parametrize("compression", ["raw", "tiff_lzw", "tiff_adobe_deflate"])
def test_a_tiff_becomes_an_upright_jpeg(compression: str) -> None:
    image = scene().convert("RGB")
    data = _tiff(image, compression=compression)
    assert sniff(data) is PhotoFormat.TIFF
    photo = normalise_photo(data, max_pixels=64_000_000)
    assert photo.reencoded and photo.source_format is PhotoFormat.TIFF
    assert (photo.columns, photo.rows) == image.size
    assert photo.photometric == "YBR_FULL_422"


def test_a_rotated_tiff_is_turned_upright() -> None:
    image = Image.new("RGB", (300, 200), "white")
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    photo = normalise_photo(_tiff(image, exif=exif), max_pixels=64_000_000)
    assert (photo.columns, photo.rows) == (200, 300)


def test_a_big_endian_sixteen_bit_grey_tiff_keeps_its_tones() -> None:
    grey = Image.linear_gradient("L").resize((256, 64)).convert("I;16")
    grey = grey.point(lambda value: value * 256)
    data = _tiff(grey)
    photo = normalise_photo(data, max_pixels=64_000_000)
    assert photo.photometric == "MONOCHROME2"
    decoded = Image.open(io.BytesIO(photo.jpeg))
    assert decoded.getextrema()[1] > 200, "16-bit samples must be scaled, not clipped"


def test_only_the_first_page_of_a_multi_page_tiff_is_the_photo() -> None:
    pages = [Image.new("RGB", (120, 80), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    photo = normalise_photo(buffer.getvalue(), max_pixels=64_000_000)
    pixel = Image.open(io.BytesIO(photo.jpeg)).convert("RGB").getpixel((60, 40))
    assert pixel[0] > 200 and pixel[2] < 60


def test_a_tiff_cut_short_is_refused() -> None:
    data = _tiff(scene().convert("RGB"))
    with pytest.raises(PhotoRejected):
        normalise_photo(data[: len(data) // 2], max_pixels=64_000_000)
