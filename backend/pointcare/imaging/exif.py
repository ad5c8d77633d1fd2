"""Read the one EXIF fact the archive needs, the orientation, from possibly hostile bytes.

Only IFD0 is read (the Orientation tag lives there), with bounds checks on every offset, so a
malformed or looping EXIF block costs nothing and cannot hang. The semantics match
``PIL.ImageOps.exif_transpose``: EXIF Orientation first, else XMP ``tiff:Orientation``.
"""

from __future__ import annotations

import re
import struct

from PIL import Image

ORIENTATION_TAG = 0x0112
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""Orientation -> the transpose that makes the picture upright (as ``ImageOps.exif_transpose``)."""
QUARTER_TURNS = frozenset({5, 6, 7, 8})
"""Orientations whose upright picture swaps width and height."""
_SHORT = 3
_EXIF_PREFIX = b"Exif\x00\x00"
_BYTE_ORDERS = {b"II*\x00": "<", b"MM\x00*": ">"}
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


class BrokenExif(ValueError):
    """An EXIF block is present but its first directory cannot be read."""


def orientation(exif: bytes | None, xmp: bytes | str | None) -> int | None:
    """EXIF orientation 1-8, or None when an EXIF block exists but cannot be parsed.

    Absent or out-of-range values count as 1 (upright): no viewer could act on them either.
    """
    value: int | None = None
    if exif:
        try:
            value = _ifd0_orientation(exif)
        except BrokenExif:
            return None
    if value is None and xmp:
        raw = xmp.encode("utf-8", "replace") if isinstance(xmp, str) else xmp
        match = _XMP_ORIENTATION.search(raw)
        value = int(match[1]) if match else None
    return value if value is not None and 1 <= value <= 8 else 1


def _ifd0_orientation(exif: bytes) -> int | None:
    tiff = exif[len(_EXIF_PREFIX) :] if exif.startswith(_EXIF_PREFIX) else exif
    order = _BYTE_ORDERS.get(tiff[:4])
    if order is None:
        raise BrokenExif("no TIFF header")
    try:
        (ifd_offset,) = struct.unpack_from(f"{order}I", tiff, 4)
        (count,) = struct.unpack_from(f"{order}H", tiff, ifd_offset)
    except struct.error:
        raise BrokenExif("IFD0 lies outside the block") from None
    entries = ifd_offset + 2
    if ifd_offset < 8 or entries + 12 * count > len(tiff):
        raise BrokenExif("IFD0 runs past the end of the block")
    for index in range(count):
        tag, value_type, value_count = struct.unpack_from(f"{order}HHI", tiff, entries + 12 * index)
        if tag == ORIENTATION_TAG:
            if value_type != _SHORT or value_count != 1:
                return None
            (value,) = struct.unpack_from(f"{order}H", tiff, entries + 12 * index + 8)
            return int(value)
    return None
