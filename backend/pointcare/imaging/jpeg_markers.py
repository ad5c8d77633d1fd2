"""JPEG marker segments: read the frame header and rewrite a file without its metadata.

A JPEG file is a run of marker segments (ITU T.81 Annex B). Everything a decoder needs is in
DQT, DHT, DRI, SOF and SOS plus the entropy-coded data after each SOS; APPn and COM segments
are side information (EXIF, XMP, ICC, IPTC, comments, embedded thumbnails).
:func:`rewrite_without_metadata` keeps the former byte for byte and drops the latter, which is
how a phone JPEG reaches the archive without being decoded and re-encoded.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

SOI = 0xD8
EOI = 0xD9
SOS = 0xDA
DQT = 0xDB
DHT = 0xC4
DRI = 0xDD
SOF0 = 0xC0
APP0 = 0xE0
APP14 = 0xEE
COM = 0xFE

# Start-of-frame markers: every C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field that may legitimately appear between segments.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# What a baseline decoder needs; any other non-APP, non-COM marker disqualifies the fast path.
_DECODING_MARKERS = frozenset({SOF0, DHT, DQT, DRI, SOS})
# Inside entropy-coded data a 0xFF is followed by 0x00 (stuffing) or an RSTn marker;
# anything else starts the next marker segment.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# libjpeg reads three components labelled 'R', 'G', 'B' as untransformed RGB.
_RGB_COMPONENT_IDS = (0x52, 0x47, 0x42)
_JFIF_DEFAULT_DENSITY = (0, 1, 1)  # no units, 1:1 pixel aspect


class JpegStructureError(ValueError):
    """The bytes are not a well-formed JPEG marker stream (truncated, garbage, no frame)."""


@dataclass(frozen=True, slots=True)
class Component:
    identifier: int
    h_sampling: int
    v_sampling: int


@dataclass(frozen=True, slots=True)
class Segment:
    marker: int
    data: bytes
    """The whole segment, marker and length included; for SOS also the entropy-coded data."""


@dataclass(frozen=True, slots=True)
class FrameHeader:
    marker: int
    precision: int
    width: int
    height: int
    components: tuple[Component, ...]

    @property
    def is_baseline(self) -> bool:
        return self.marker == SOF0 and self.precision == 8

    @property
    def mcu_size(self) -> tuple[int, int]:
        """Width and height of an MCU in pixels: 8 times the largest sampling factors (one
        8 x 8 block for a single component, whatever factors it declares)."""
        if len(self.components) == 1:
            return 8, 8
        return (
            8 * max(c.h_sampling for c in self.components),
            8 * max(c.v_sampling for c in self.components),
        )


@dataclass(frozen=True, slots=True)
class JpegStructure:
    frame: FrameHeader
    segments: tuple[Segment, ...]
    adobe_transform: int | None
    jfif_density: tuple[int, int, int] | None

    @property
    def only_baseline_markers(self) -> bool:
        """True when every segment is either baseline decoding data or droppable metadata."""
        return all(s.marker in _DECODING_MARKERS or _is_metadata(s.marker) for s in self.segments)

    @property
    def chroma_subsampling(self) -> str | None:
        """``"4:2:0"``, ``"4:2:2"`` or ``"4:4:4"`` for plain YCbCr sampling, else ``None``."""
        comps = self.frame.components
        if len(comps) != 3 or any((c.h_sampling, c.v_sampling) != (1, 1) for c in comps[1:]):
            return None
        return {(2, 2): "4:2:0", (2, 1): "4:2:2", (1, 1): "4:4:4"}.get(
            (comps[0].h_sampling, comps[0].v_sampling)
        )

    @property
    def is_ycbcr_or_grey(self) -> bool:
        """Whether a decoder reads the samples as greyscale or YCbCr (not RGB, CMYK or YCCK)."""
        comps = self.frame.components
        if len(comps) == 1:
            return True
        if len(comps) != 3:
            return False
        if tuple(c.identifier for c in comps) == _RGB_COMPONENT_IDS:
            return False
        # Adobe transform 0 means "no colour transform": the samples are RGB.
        return self.adobe_transform in (None, 1)


def _is_metadata(marker: int) -> bool:
    return APP0 <= marker <= 0xEF or marker == COM


def parse(data: bytes) -> JpegStructure:
    """Split a JPEG into marker segments, stopping at EOI (anything after it is ignored).

    Raises :class:`JpegStructureError` when the stream is malformed or ends before EOI.
    """
    if not data.startswith(b"\xff\xd8"):
        raise JpegStructureError("no SOI marker")
    segments: list[Segment] = []
    frame: FrameHeader | None = None
    adobe_transform: int | None = None
    jfif_density: tuple[int, int, int] | None = None
    pos = 2
    size = len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise JpegStructureError(f"expected a marker at byte {pos}")
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede any marker
            pos += 1
        if pos >= size:
            raise JpegStructureError("stream ends inside a marker")
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == EOI:
            break
        if marker in _STANDALONE or marker == SOI:
            raise JpegStructureError(f"unexpected marker 0xFF{marker:02X} outside a scan")
        if pos + 2 > size:
            raise JpegStructureError("stream ends inside a segment length")
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2 or end > size:
            raise JpegStructureError(f"segment 0xFF{marker:02X} runs past the end of the data")
        payload = data[pos + 2 : end]
        if marker in _SOF_MARKERS:
            if frame is not None:
                raise JpegStructureError("more than one frame header")
            frame = _frame_header(marker, payload)
        elif marker == APP14 and payload.startswith(b"Adobe") and len(payload) >= 12:
            adobe_transform = payload[11]
        elif marker == APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 12:
            units, x_density, y_density = struct.unpack_from(">BHH", payload, 7)
            jfif_density = (units, x_density, y_density)
        if marker == SOS:
            match = _NEXT_MARKER.search(data, end)
            if match is None:
                raise JpegStructureError("scan data ends without EOI")
            end = match.start()
        segments.append(Segment(marker, data[start:end]))
        pos = end
    if frame is None:
        raise JpegStructureError("no frame header (SOF)")
    if not any(s.marker == SOS for s in segments):
        raise JpegStructureError("no scan (SOS)")
    return JpegStructure(frame, tuple(segments), adobe_transform, jfif_density)


def _frame_header(marker: int, payload: bytes) -> FrameHeader:
    if len(payload) < 6:
        raise JpegStructureError("frame header too short")
    precision, height, width, count = struct.unpack_from(">BHHB", payload)
    if len(payload) < 6 + 3 * count or count == 0:
        raise JpegStructureError("frame header lists more components than it holds")
    components = tuple(
        Component(payload[6 + 3 * i], payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 0x0F)
        for i in range(count)
    )
    return FrameHeader(marker, precision, width, height, components)


def read_frame_header(data: bytes) -> FrameHeader:
    """The frame header (SOF) of a JPEG, reading only the segments before it.

    Cheap: it stops at the frame header and never scans entropy-coded data.
    """
    if not data.startswith(b"\xff\xd8"):
        raise JpegStructureError("no SOI marker")
    pos = 2
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            raise JpegStructureError(f"expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _SOF_MARKERS:
            return _frame_header(marker, data[pos + 4 : pos + 2 + length])
        if marker in (SOS, EOI):
            break
        pos += 2 + length
    raise JpegStructureError("no frame header before the first scan")


def rewrite_without_metadata(structure: JpegStructure) -> bytes:
    """The same JPEG with every APPn and COM segment replaced by one minimal JFIF APP0.

    The JFIF header states that three components are YCbCr, which matters once an Adobe APP14
    (the other colour-space hint) has been dropped; callers only do this for YCbCr or greyscale
    streams. Its density is the original's, and it carries no thumbnail.
    """
    units, x_density, y_density = structure.jfif_density or _JFIF_DEFAULT_DENSITY
    jfif = b"\xff\xe0" + struct.pack(
        ">H5sBBBHHBB", 16, b"JFIF\x00", 1, 1, units, max(x_density, 1), max(y_density, 1), 0, 0
    )
    kept = (s.data for s in structure.segments if not _is_metadata(s.marker))
    return b"".join((b"\xff\xd8", jfif, *kept, b"\xff\xd9"))
