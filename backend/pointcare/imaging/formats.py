"""Recognise an upload by its first bytes, never by its file name or declared Content-Type.

Phones label HEIC as application/octet-stream, and a renamed file must not slip past the
decoder choice, so the content decides.
"""

from __future__ import annotations

import struct
from enum import StrEnum


class PhotoFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"
    HEIF = "HEIF"
    TIFF = "TIFF"
    """From desk scanners and some dermatoscopes; the first page is the photo."""


_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
"""Classic TIFF, little and big endian (BigTIFF is not accepted)."""
# ISO-BMFF brands of HEVC-coded HEIF stills and sequences.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
# Structural brands shared by HEIC and AVIF: HEIF only when no AVIF brand is declared.
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def sniff(data: bytes) -> PhotoFormat | None:
    """The photo format these bytes start with, or None when it is not one we accept."""
    if data.startswith(_JPEG_MAGIC):
        return PhotoFormat.JPEG
    if data.startswith(_PNG_MAGIC):
        return PhotoFormat.PNG
    if _is_heif(data):
        return PhotoFormat.HEIF
    if data.startswith(_TIFF_MAGICS):
        return PhotoFormat.TIFF
    return None


def _is_heif(data: bytes) -> bool:
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    (box_size,) = struct.unpack_from(">I", data)
    if box_size < 16 or box_size % 4:
        return False
    major = data[8:12]
    # A file cut short inside the ftyp box is still recognised, so it is reported as unreadable.
    compatible = {data[i : i + 4] for i in range(16, min(box_size, len(data), 4096) - 3, 4)}
    if major in _HEIC_BRANDS:
        return True
    return major in _GENERIC_HEIF_BRANDS and not compatible & _AVIF_BRANDS


def png_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, read before any decoding."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack_from(">II", data, 16)
    return width, height
