from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from pointcare.imaging import colour, parallel
from tests.support.tools import corpus
from tests.unit.imaging.images import mean_difference, srgb_icc


def _display_p3() -> bytes:
    """The Display P3 profile an iPhone embeds."""
    with Image.open(corpus("photos", "heic", "iphone_IMG_5195.heic")) as image:
        icc: bytes = image.info["icc_profile"]
    return icc


def _independently_converted(pixels: Image.Image, p3: bytes) -> Image.Image:
    """``pixels`` converted from ``p3`` to sRGB by Pillow's own one-call conversion."""
    converted = ImageCms.profileToProfile(
        pixels,
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
    )
    assert converted is not None
    return converted


def test_srgb_and_missing_profiles_need_no_conversion() -> None:
    assert not colour.needs_conversion(None, "RGB")
    assert not colour.needs_conversion(b"", "RGB")
    assert not colour.needs_conversion(srgb_icc(), "RGB")


def test_display_p3_needs_conversion() -> None:
    assert colour.needs_conversion(_display_p3(), "RGB")


def test_unusable_or_mismatched_profiles_are_ignored() -> None:
    assert not colour.needs_conversion(b"not an ICC profile at all", "RGB")
    assert not colour.needs_conversion(_display_p3(), "CMYK")  # an RGB profile on CMYK pixels


def test_p3_pixels_match_an_independent_conversion() -> None:
    p3 = _display_p3()
    pixels = Image.new("RGB", (4, 1))
    pixels.frombytes(bytes((200, 100, 50, 30, 180, 90, 255, 0, 0, 128, 128, 128)))
    reference = _independently_converted(pixels, p3)

    converted = colour.to_srgb(pixels.copy(), p3)

    assert converted.mode == "RGB"
    assert mean_difference(converted, reference) < 1
    # P3 red lies outside sRGB: expressed in sRGB it needs a fully saturated red.
    red = converted.getpixel((2, 0))
    assert isinstance(red, tuple)
    assert red[0] == 255
    assert red[1] < 40
    # Greys stay grey.
    grey = converted.getpixel((3, 0))
    assert isinstance(grey, tuple)
    assert max(grey) - min(grey) <= 2


def test_unconverted_images_are_returned_as_rgb() -> None:
    image = Image.new("RGB", (2, 2), (1, 2, 3))
    assert colour.to_srgb(image, None) is image
    cmyk = Image.new("CMYK", (2, 2), (0, 0, 0, 0))
    assert colour.to_srgb(cmyk, None).mode == "RGB"


@pytest.fixture
def three_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversions split a 301 x 203 photo into three bands, as a 12 MP one on three cores."""
    monkeypatch.setattr(parallel, "WORKERS", 3)
    monkeypatch.setattr(colour, "_MIN_BAND_PIXELS", 1_000)


def _noise() -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise((301, 203), s) for s in (40, 80, 120)])


@pytest.mark.usefixtures("three_bands")
def test_a_large_photo_converted_in_bands_is_the_photo_converted_whole() -> None:
    p3 = _display_p3()
    pixels = _noise()
    whole = _independently_converted(pixels, p3)

    in_bands = colour.to_srgb(pixels.copy(), p3)

    assert in_bands.tobytes() == whole.tobytes()
