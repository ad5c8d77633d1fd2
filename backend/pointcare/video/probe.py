"""What a clip holds, as ffprobe reads it: its streams' coding and geometry, the time and
frames its video packets span (read from the packets themselves, since a browser's WebM
recording carries no duration in its header), and when the container says it was recorded."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from pointcare.video.formats import ClipFormat
from pointcare.video.tools import ToolLimits, VideoTools

PROBE_ENTRIES = "packet=stream_index,pts_time,duration_time,flags"
APPLE_CREATION_DATE = "com.apple.quicktime.creationdate"
"""An iPhone's recording moment, at the phone's own offset (``2024-05-03T12:30:00+0200``)."""
CREATION_TIME = "creation_time"
"""The movie header's creation time (ISO base media ``mvhd``, Matroska ``DateUTC``): in UTC."""
FORMAT_ENTRIES = f"format=duration:format_tags={CREATION_TIME},{APPLE_CREATION_DATE}"
HDR_TRANSFERS = frozenset({"arib-std-b67", "smpte2084"})
TRUNCATION_SLACK = 0.5
"""Seconds the packets may stop short of the declared duration (rounding, a last frame's
length) before the file counts as cut short."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoStream:
    codec: str
    """ffmpeg's codec name: ``h264``, ``hevc``, ``vp8``, ``vp9``, ``av1``..."""
    profile: str
    """As ffprobe names it (``High``, ``Main``, ``Constrained Baseline``), or empty."""
    level: int | None
    """H.264 ``level_idc`` (41 for level 4.1); None when the codec has no such level."""
    width: int
    """Coded picture width, before rotation."""
    height: int
    pixel_format: str
    field_order: str
    """``progressive``, an interlaced order (``tt``, ``bb``, ``tb``, ``bt``), or empty."""
    rotation: int
    """The quarter turn a player applies, in degrees (0, 90, 180, 270)."""
    sample_aspect_ratio: Fraction
    frame_rate: Fraction | None
    """Average frames per second the container declares, when it declares one."""
    transfer: str = ""
    """Colour transfer characteristic (``bt709``; ``arib-std-b67`` or ``smpte2084`` for HDR)."""

    @property
    def hdr(self) -> bool:
        """HLG or PQ: an iPhone's default since 2020; shown washed out unless tone-mapped."""
        return self.transfer in HDR_TRANSFERS

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown: square pixels, rotation applied."""
        width = round(self.width * self.sample_aspect_ratio)
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipProbe:
    video: VideoStream | None
    """The first video stream; None for a file of sound only."""
    other_streams: tuple[str, ...]
    """Codec types of the other streams (``audio``, ``data``, ``subtitle``...)."""
    frames: int
    """Packets of the video stream: one per frame for every codec we take."""
    keyframes: int
    duration: float
    """Seconds from the first video packet's start to the last one's end."""
    declared_duration: float | None = None
    """What the container's header says the file lasts, when it says."""
    last_packet_end: float = 0.0
    """Where the last packet of any stream ends, in seconds."""
    recorded_at: datetime | None = None
    """When the container says the clip was recorded (timezone-aware): an iPhone's own date at
    its own offset, else the header's creation time (UTC) at this server's offset, as a photo
    that gives no offset is read; None when it says nothing readable."""

    @property
    def cut_short(self) -> bool:
        """The packets stop well before the duration the header declares: a truncated file
        that its demuxer reads without an error (Matroska and WebM are written in clusters
        that each stand alone)."""
        declared = self.declared_duration
        return declared is not None and declared - self.last_packet_end > TRUNCATION_SLACK

    @property
    def measured_rate(self) -> Fraction | None:
        """Frames per second over the whole clip, for recordings with a variable rate."""
        if self.frames < 2 or self.duration <= 0:
            return None
        return Fraction(self.frames) / Fraction(self.duration).limit_denominator(1_000_000)


def probe_clip(
    tools: VideoTools, path: Path, clip_format: ClipFormat, limits: ToolLimits
) -> ClipProbe:
    """Read ``path`` (demuxed as ``clip_format``, nothing decoded); raises
    :class:`~pointcare.video.tools.ToolFailed` when ffprobe cannot read it at all."""
    output = tools.run_ffprobe(
        [
            "-f",
            clip_format.demuxer,
            "-show_streams",
            "-show_entries",
            FORMAT_ENTRIES,
            "-show_entries",
            PROBE_ENTRIES,
            "-of",
            "json",
            "file:" + path.name,
        ],
        limits,
        cwd=path.parent,
    )
    return parse_probe(output)


def parse_probe(output: bytes) -> ClipProbe:
    """ffprobe's JSON (``-show_streams``, the format's duration, the packets' times and flags)
    as a ClipProbe."""
    try:
        report = json.loads(output)
    except ValueError:
        raise ValueError("ffprobe's report is not JSON") from None
    streams: Sequence[Mapping[str, Any]] = report.get("streams") or []
    video_index: int | None = None
    video: VideoStream | None = None
    others: list[str] = []
    for stream in streams:
        kind = str(stream.get("codec_type", ""))
        if kind == "video" and video is None and not _is_cover_art(stream):
            video_index = int(stream["index"])
            video = _video_stream(stream)
        else:
            others.append(kind or "unknown")
    frames = keyframes = 0
    start: float | None = None
    end = last_end = 0.0
    for packet in report.get("packets") or []:
        pts = _float(packet.get("pts_time"))
        if pts is None:
            continue
        packet_end = pts + (_float(packet.get("duration_time")) or 0.0)
        last_end = max(last_end, packet_end)
        if video_index is None or packet.get("stream_index") != video_index:
            continue
        frames += 1
        if "K" in str(packet.get("flags", "")):
            keyframes += 1
        start = pts if start is None else min(start, pts)
        end = max(end, packet_end)
    duration = max(0.0, end - start) if start is not None else 0.0
    container = report.get("format") or {}
    return ClipProbe(
        video=video,
        other_streams=tuple(others),
        frames=frames,
        keyframes=keyframes,
        duration=duration,
        declared_duration=_float(container.get("duration")),
        last_packet_end=last_end,
        recorded_at=_recorded_at(container.get("tags") or {}),
    )


def _recorded_at(tags: Mapping[str, Any]) -> datetime | None:
    """The first of the container's recording dates that reads as a moment with an offset."""
    for key in (APPLE_CREATION_DATE, CREATION_TIME):
        try:
            moment = datetime.fromisoformat(str(tags[key]).strip())
        except (KeyError, ValueError):
            continue
        if moment.tzinfo is not None:
            return moment if key == APPLE_CREATION_DATE else moment.astimezone()
    return None


def _is_cover_art(stream: Mapping[str, Any]) -> bool:
    """An attached picture (a still shown as the file's icon) is not the recording."""
    disposition = stream.get("disposition") or {}
    return bool(disposition.get("attached_pic"))


def _video_stream(stream: Mapping[str, Any]) -> VideoStream:
    level = stream.get("level")
    codec = str(stream.get("codec_name", ""))
    return VideoStream(
        codec=codec,
        profile=str(stream.get("profile", "")),
        level=int(level) if codec == "h264" and isinstance(level, int) and level > 0 else None,
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        pixel_format=str(stream.get("pix_fmt", "")),
        field_order=str(stream.get("field_order", "")),
        rotation=_rotation(stream),
        sample_aspect_ratio=_ratio(stream.get("sample_aspect_ratio"), ":") or Fraction(1),
        frame_rate=_ratio(stream.get("avg_frame_rate"), "/"),
        transfer=str(stream.get("color_transfer", "")),
    )


def _rotation(stream: Mapping[str, Any]) -> int:
    """The quarter turn a player applies, from the display matrix or the older ``rotate`` tag.

    Its direction is left to ffmpeg, which applies the matrix itself when it transcodes; what
    matters here is whether there is a turn, and whether it swaps width and height."""
    angle: float = 0.0
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            angle = float(side_data["rotation"])
            break
    else:
        angle = float((stream.get("tags") or {}).get("rotate", 0))
    return (round(angle / 90) * 90) % 360


def _ratio(raw: object, separator: str) -> Fraction | None:
    if not isinstance(raw, str) or separator not in raw:
        return None
    numerator, _, denominator = raw.partition(separator)
    try:
        num, den = int(numerator), int(denominator)
    except ValueError:
        return None
    if num <= 0 or den <= 0:
        return None
    return Fraction(num, den)


def _float(raw: object) -> float | None:
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
