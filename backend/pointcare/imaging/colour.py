"""Colour management: bring embedded ICC profiles (iPhone Display P3, Adobe RGB, CMYK) to sRGB.

DICOM viewers assume sRGB when an image carries no ICC Profile module, so pixels are converted
once here and no profile is stored. A profile that already behaves like sRGB is left alone,
which lets an untouched phone JPEG keep its original compressed data.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache

from PIL import Image, ImageCms

from pointcare.imaging import parallel

log = logging.getLogger(__name__)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Relative colorimetric: matrix/TRC phone profiles (Display P3) have no perceptual tables, so
# LittleCMS would fall back to it anyway; out-of-gamut P3 colours clip to the sRGB gamut edge.
_INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC
# A profile is "effectively sRGB" when a probe of colours survives its conversion to sRGB
# within this many levels (8-bit); rounding in LittleCMS alone gives 1.
_SRGB_TOLERANCE = 2
_PROFILE_MODES = {"RGB ": "RGB", "CMYK": "CMYK"}
# LittleCMS takes about 20 ns a pixel (a quarter of a second for a 12 MP iPhone photo) and lets
# other threads run meanwhile: a large photo is converted in horizontal bands, one per core.
_MIN_BAND_PIXELS = 1_000_000


def _probe() -> Image.Image:
    """Every colour of a 6-level RGB cube plus a full grey ramp (472 pixels)."""
    levels = (0, 51, 102, 153, 204, 255)
    pixels = [(r, g, b) for r in levels for g in levels for b in levels]
    pixels += [(v, v, v) for v in range(256)]
    return Image.frombytes("RGB", (len(pixels), 1), bytes(c for pixel in pixels for c in pixel))


_PROBE = _probe()


@lru_cache(maxsize=32)
def _transform_for(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from ``icc`` to sRGB for images of ``mode``, or None when none is needed.

    None also when the profile is unusable or does not describe ``mode`` (a GRAY profile on an
    RGB image): the pixels are then taken as sRGB, the same assumption a viewer would make.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _PROFILE_MODES.get(profile.profile.xcolor_space) != mode:
            return None
        transform = ImageCms.buildTransform(profile, _SRGB, mode, "RGB", _INTENT)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("ignoring an unusable ICC profile: %s", type(exc).__name__)
        return None
    if mode == "RGB" and _is_identity(transform):
        return None
    return transform


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    converted = transform.apply(_PROBE)
    return all(
        abs(before - after) <= _SRGB_TOLERANCE
        for before, after in zip(_PROBE.tobytes(), converted.tobytes(), strict=True)
    )


def needs_conversion(icc: bytes | None, mode: str) -> bool:
    """Whether pixels of ``mode`` tagged with ``icc`` differ from sRGB enough to convert."""
    return bool(icc) and _transform_for(bytes(icc or b""), mode) is not None


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` (RGB or CMYK) converted to sRGB RGB; RGB images are converted in place."""
    transform = _transform_for(icc, image.mode) if icc else None
    if transform is None:
        return image if image.mode == "RGB" else image.convert("RGB")
    if image.mode == "RGB":
        _convert_in_bands(image, transform)
        return image
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None  # only None when inPlace=True
    return converted


def _convert_in_bands(image: Image.Image, transform: ImageCms.ImageCmsTransform) -> None:
    """Apply ``transform`` to ``image`` in place, its bands side by side on the cores."""
    width, height = image.size
    bands = parallel.row_bands(width, height, _MIN_BAND_PIXELS)
    if len(bands) == 1:
        ImageCms.applyTransform(image, transform, inPlace=True)
        return
    boxes = [(0, top, width, bottom) for top, bottom in bands]

    def convert(box: tuple[int, int, int, int]) -> Image.Image:
        band = image.crop(box)
        ImageCms.applyTransform(band, transform, inPlace=True)
        return band

    # LittleCMS copies its cache per call, so one transform serves several threads at once.
    for box, band in zip(boxes, parallel.map_parts(convert, boxes), strict=True):
        image.paste(band, box[:2])
