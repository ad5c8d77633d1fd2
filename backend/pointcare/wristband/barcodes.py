"""Find wristband barcodes in a camera frame (zxing-cpp): encoded image bytes in, texts out.

The capture page sends a few small frames a second while the nurse aims the phone, and most of
them hold no barcode at all, so one decode has to be quick: the frame is decoded straight to
greyscale (JPEG DCT scaling skips the colour work), photos larger than a few megapixels are
reduced first, and zxing looks only for the four wristband symbologies. A second pass with
another binarizer runs only when the first found nothing and the time budget allows it.

Texts are zxing's plain text: GS1 data keeps its FNC1 separators as GS characters, and the AIM
symbology identifier (``]C1``, ``]d2``, ``]Q3``...) says whether the symbol announced GS1.
"""

from __future__ import annotations

import io
import logging
import math
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import zxingcpp
from PIL import Image

from pointcare.imaging.formats import sniff

# Importing the photo module also registers the HEIF opener, so HEIC frames open too.
from pointcare.imaging.photo import (
    ImageTooLarge,
    UnsupportedImage,
    decoding,
)

log = logging.getLogger(__name__)

DECODE_BUDGET_SECONDS = 0.05
"""A frame's decode should end within this; a further pass starts only if it still fits."""

WORKING_PIXELS = 4_000_000
"""Larger images (a photo of the wristband rather than a viewfinder frame) are reduced to about
this many pixels first: a wristband then still spans hundreds of pixels, and decoding a 12 MP
photo at full size would cost half a second per pass."""


class Symbology(StrEnum):
    """Wristband symbologies, named as the browser's BarcodeDetector names them."""

    CODE_128 = "code_128"
    PDF417 = "pdf417"
    DATA_MATRIX = "data_matrix"
    QR_CODE = "qr_code"


_SYMBOLOGIES = {
    zxingcpp.BarcodeFormat.Code128: Symbology.CODE_128,
    zxingcpp.BarcodeFormat.PDF417: Symbology.PDF417,
    zxingcpp.BarcodeFormat.DataMatrix: Symbology.DATA_MATRIX,
    zxingcpp.BarcodeFormat.QRCode: Symbology.QR_CODE,
}
_FORMATS = zxingcpp.BarcodeFormats(list(_SYMBOLOGIES))
# Each pass tries rotated, inverted and downscaled variants; they differ by binarizer. The local
# one copes with uneven light on a curved wristband, the global one with low-contrast print.
_PASSES: tuple[dict[str, Any], ...] = (
    {"binarizer": zxingcpp.Binarizer.LocalAverage},
    {"binarizer": zxingcpp.Binarizer.GlobalHistogram},
)
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_PILLOW_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "HEIF": "HEIF", "WEBP": "WEBP"}

_EMPTY = "The camera frame is empty."
_UNSUPPORTED = "The camera frame is not an image we can read: send JPEG, PNG, WebP or HEIC."
_UNREADABLE = "The camera frame could not be read: the image is damaged or incomplete."


def _frame_decoding() -> AbstractContextManager[None]:
    return decoding(
        "camera frame", unreadable=_UNREADABLE, too_large="The camera frame has too many pixels."
    )


@dataclass(frozen=True, slots=True)
class DecodedBarcode:
    format: Symbology
    text: str
    """The content as text; in GS1 data each FNC1 separator is a GS character (0x1D)."""
    symbology_identifier: str
    """AIM symbology identifier, e.g. ``]C1`` for GS1-128 or ``]d1`` for plain Data Matrix."""
    raw: bytes
    """The symbol's bytes, uninterpreted."""


def decode_barcodes(
    image: bytes, *, max_pixels: int, budget_seconds: float = DECODE_BUDGET_SECONDS
) -> list[DecodedBarcode]:
    """The Code 128, PDF417, Data Matrix and QR codes in an encoded image (JPEG, PNG, WebP,
    HEIC); an empty list when there is none. Raises :class:`PhotoRejected` subclasses for bytes
    that are not such an image or that hold more than ``max_pixels`` pixels."""
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    grey = load_greyscale(image, max_pixels=max_pixels)
    started = time.perf_counter()
    found: list[zxingcpp.Barcode] = []
    for done, options in enumerate(_PASSES, start=1):
        found = zxingcpp.read_barcodes(
            grey,
            formats=_FORMATS,
            text_mode=zxingcpp.TextMode.Plain,
            try_rotate=True,
            try_downscale=True,
            try_invert=True,
            **options,
        )
        elapsed = time.perf_counter() - started
        if found or elapsed + elapsed / done > budget_seconds:
            break
    log.debug("barcode decode: %d found in %.1f ms", len(found), elapsed * 1000)
    return _unique(found)


def load_greyscale(image: bytes, *, max_pixels: int) -> Image.Image:
    """The image as 8-bit greyscale (transparency on white), reduced to ``WORKING_PIXELS``."""
    if not image:
        raise UnsupportedImage(_EMPTY)
    kind = _sniff(image)
    if kind is None:
        raise UnsupportedImage(_UNSUPPORTED)
    with (
        _frame_decoding(),
        Image.open(io.BytesIO(image), formats=[_PILLOW_FORMATS[kind]]) as opened,
    ):
        width, height = opened.size
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"The camera frame is too large ({width} x {height} pixels); "
                f"the most we accept is {max_pixels:,} pixels."
            )
        factor = _reduction(width, height)
        if kind == "JPEG":
            # DCT scaling and luma only: the decoder skips most of the work we would throw away.
            opened.draft("L", (math.ceil(width / factor), math.ceil(height / factor)))
        grey = _to_grey(opened)
    remaining = _reduction(*grey.size)
    return grey.reduce(remaining) if remaining > 1 else grey


def _sniff(image: bytes) -> str | None:
    if len(image) >= 12 and image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "WEBP"
    kind = sniff(image)
    return kind.value if kind is not None else None


def _reduction(width: int, height: int) -> int:
    """The whole factor that brings ``width x height`` to at most ``WORKING_PIXELS``."""
    pixels = width * height
    return 1 if pixels <= WORKING_PIXELS else math.ceil(math.sqrt(pixels / WORKING_PIXELS))


def _to_grey(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Transparent pixels are often stored black: on white, like the paper they stand for.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(background, rgba).convert("L")
    if mode in _WIDE_GREY_MODES:
        # convert("L") would clip 16-bit samples at 255 instead of scaling them.
        image = image.point(lambda value: value / 256)
    # Always a new image: the opened file closes when decoding ends.
    return image.copy() if mode == "L" else image.convert("L")


def _unique(found: list[zxingcpp.Barcode]) -> list[DecodedBarcode]:
    decoded: list[DecodedBarcode] = []
    for barcode in found:
        symbology = _SYMBOLOGIES.get(barcode.symbology)
        if symbology is None:
            continue
        item = DecodedBarcode(
            format=symbology,
            text=barcode.text,
            symbology_identifier=barcode.symbology_identifier,
            raw=barcode.bytes,
        )
        if item not in decoded:
            decoded.append(item)
    return decoded


__all__ = [
    "DECODE_BUDGET_SECONDS",
    "WORKING_PIXELS",
    "DecodedBarcode",
    "Symbology",
    "decode_barcodes",
    "load_greyscale",
]
