"""Read the two EXIF facts the archive needs from possibly hostile bytes: the orientation, and
the moment the photo was taken.

For the orientation only IFD0 is read (the Orientation tag lives there), with bounds checks on
every offset, so a malformed or looping EXIF block costs nothing and cannot hang. The semantics
match ``PIL.ImageOps.exif_transpose``: EXIF Orientation first, else XMP ``tiff:Orientation``.
The moment (DateTimeOriginal, with OffsetTimeOriginal when the camera wrote it) is read through
Pillow's EXIF reader, from the container of any format we take (JPEG, HEIF, PNG, TIFF).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from datetime import datetime

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


EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
_EXIF_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class PhotoMoment:
    """When the camera says it took the photo."""

    local: datetime
    """The camera's wall-clock time (naive)."""
    offset_minutes: int | None
    """Minutes east of UTC when the camera recorded its offset (OffsetTimeOriginal)."""


def moment_taken(data: bytes) -> PhotoMoment | None:
    """The photo's EXIF DateTimeOriginal (with OffsetTimeOriginal), or None when it has none
    or what it has is not a date (a camera never set, "0000:00:00 00:00:00")."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            tags = image.getexif().get_ifd(EXIF_IFD)
    except Exception:
        return None
    local = _exif_datetime(tags.get(DATE_TIME_ORIGINAL))
    if local is None:
        return None
    return PhotoMoment(local, _exif_offset(tags.get(OFFSET_TIME_ORIGINAL)))


def _exif_datetime(raw: object) -> datetime | None:
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    if not isinstance(text, str) or not (match := _EXIF_DATE.match(text.strip("\x00 "))):
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _exif_offset(raw: object) -> int | None:
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    if not isinstance(text, str) or not (match := _EXIF_OFFSET.fullmatch(text.strip("\x00 "))):
        return None
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    if total > 14 * 60 or int(minutes) >= 60:  # no place on Earth is further from UTC
        return None
    return -total if sign == "-" else total


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
