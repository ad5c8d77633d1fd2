"""The blurred thumbnail of a sealed photo: same size, colours kept, detail gone."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageFilter, ImageStat

from pointcare.access.blur import blurred_jpeg
from tests.support.tools import corpus


def thumbnail() -> bytes:
    with Image.open(corpus("photos", "gps", "DSCN0010.jpg")) as image:
        image.thumbnail((320, 320))
        output = BytesIO()
        image.convert("RGB").save(output, "JPEG", quality=90)
        return output.getvalue()


def stats(jpeg: bytes) -> tuple[tuple[int, int], float, list[float]]:
    with Image.open(BytesIO(jpeg)) as image:
        rgb = image.convert("RGB")
        edges = rgb.convert("L").filter(ImageFilter.FIND_EDGES)
        return rgb.size, ImageStat.Stat(edges).mean[0], ImageStat.Stat(rgb).mean


def test_the_blur_keeps_size_and_colour_but_not_detail() -> None:
    sharp = thumbnail()
    size, detail, colour = stats(sharp)
    blurred_size, blurred_detail, blurred_colour = stats(blurred_jpeg(sharp))

    assert blurred_size == size
    assert blurred_detail < detail / 5
    assert all(abs(a - b) < 12 for a, b in zip(colour, blurred_colour, strict=True))


def test_tiny_and_odd_shaped_images_are_blurred_too() -> None:
    for size in ((1, 1), (3, 200), (320, 2)):
        output = BytesIO()
        Image.new("RGB", size, (200, 30, 30)).save(output, "JPEG")
        with Image.open(BytesIO(blurred_jpeg(output.getvalue()))) as image:
            assert image.size == size
