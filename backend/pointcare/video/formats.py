"""Recognise a clip by its first bytes: MP4/QuickTime (phones, Safari) or WebM/Matroska
(Chromium's MediaRecorder, Android). The content decides, never the name or the declared type,
and the container found picks the one demuxer ffmpeg may use on it."""

from __future__ import annotations

import struct
from enum import StrEnum


class ClipFormat(StrEnum):
    MP4 = "MP4"
    QUICKTIME = "MOV"
    """QuickTime, as iPhones (and many Android phones) write it."""
    WEBM = "WebM"
    MATROSKA = "Matroska"

    @property
    def demuxer(self) -> str:
        """The ffmpeg demuxer for this container, named so that no other one probes the file:
        ffmpeg's playlist and concat demuxers would otherwise open files a crafted upload names."""
        return "mov" if self in (ClipFormat.MP4, ClipFormat.QUICKTIME) else "matroska"


_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_QUICKTIME_BRAND = b"qt  "
_STILL_IMAGE_BRANDS = frozenset(
    {
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"hevc",
        b"hevx",
        b"mif1",
        b"msf1",
        b"heif",
        b"avif",
        b"avis",
    }
)
"""Major brands of HEIF and AVIF pictures (and their short sequences): photos, not clips."""
# Top-level boxes that may open a QuickTime movie written without an ftyp box.
_QUICKTIME_FIRST_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip"})


def sniff_clip(data: bytes) -> ClipFormat | None:
    """The container these bytes start with, or None when it is none we take."""
    if data.startswith(_EBML_MAGIC):
        # The EBML header comes first and names the DocType within its first bytes.
        return ClipFormat.WEBM if b"webm" in data[:64] else ClipFormat.MATROSKA
    if len(data) < 12:
        return None
    (box_size,) = struct.unpack_from(">I", data)
    box_type = data[4:8]
    if box_type == b"ftyp":
        if box_size < 16 or data[8:12] in _STILL_IMAGE_BRANDS:
            return None
        return ClipFormat.QUICKTIME if data[8:12] == _QUICKTIME_BRAND else ClipFormat.MP4
    # Size 0 runs to the end of the file, 1 is followed by a 64-bit size.
    if box_type in _QUICKTIME_FIRST_BOXES and (box_size in (0, 1) or box_size >= 8):
        return ClipFormat.QUICKTIME
    return None
