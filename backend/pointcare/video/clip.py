"""An uploaded clip becomes the H.264 MP4 the archive stores, or is refused with a reason.

Every upload is read whole before it is accepted: a conformant H.264 stream is copied into a
fresh MP4 (no re-encoding) while every frame is decoded to prove it plays; anything else is
transcoded, which decodes every frame too. Either way the new file holds the video stream and
nothing else: no sound, no container metadata (QuickTime ``udta``/``meta`` with ``©xyz``
location, creation dates, the device's make and model, XMP), no chapters, no SEI messages
(encoder settings, camera data) inside the stream, and the rotation flag applied to the
pixels. The result is probed again and must meet :mod:`conformance` before it is returned.

Clips are converted one (or ``concurrent``) at a time; a request that waits longer than
``queue_seconds`` for its turn is told to try again (:class:`ClipBusy`) instead of piling up.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from pointcare.video import conformance, poster
from pointcare.video.formats import ClipFormat, sniff_clip
from pointcare.video.probe import ClipProbe, VideoStream, probe_clip
from pointcare.video.tools import ToolFailed, ToolLimits, ToolTimedOut, VideoTools

log = logging.getLogger(__name__)

DURATION_TOLERANCE = 1.0
"""Seconds a clip may run over the limit: a recorder stopped at the limit hands over its last
chunk a little after it."""
MAX_SOURCE_PIXELS = 4096 * 2304
"""Largest picture decoded (4K and DCI 4K phone video): bounds a decode's time and memory."""
PROBE_SECONDS = 30.0
X264_PRESET = "veryfast"
X264_CRF = 23
X264_MAX_BITRATE = "8M"
X264_BUFFER = "16M"
KEYFRAME_SECONDS = 2
"""A keyframe every 2 s lets a player seek anywhere in a clip promptly."""
_INPUT_NAME = "upload"
_OUTPUT_NAME = "clip.mp4"
# HDR to SDR BT.709. HLG (an iPhone's default since 2020) was designed to look right when shown
# as SDR: converting its curve and primaries is enough, at a third of a tone-mapper's cost. PQ
# (HDR10) has no such fallback and is tone-mapped through linear light.
_HLG_TO_SDR = "zscale=t=bt709:p=bt709:m=bt709:r=tv"
_PQ_TO_SDR = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
)
_STRIP = (
    # No global, stream or chapter metadata; no encoder tag or creation time from the muxer.
    "-map_metadata",
    "-1",
    "-map_chapters",
    "-1",
    "-fflags",
    "+bitexact",
    # No SEI messages (NAL unit type 6) in the stream: x264's settings, cameras' user data.
    "-bsf:v",
    "filter_units=remove_types=6",
    # The index first, so a browser plays the clip before it has all of it.
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
)


class ClipRejected(ValueError):
    """The upload cannot be stored; the message is written for the person who sent it."""


class UnsupportedClip(ClipRejected):
    """Not an MP4, MOV, WebM or Matroska file."""


class ClipTooLarge(ClipRejected):
    """Over the byte, duration or picture-size limit, or too long to convert."""


class UnreadableClip(ClipRejected):
    """Empty, truncated or corrupt, or no frame of it decodes."""


class NoPicture(ClipRejected):
    """Sound only (or no stream at all): nothing to look at."""


class ClipBusy(RuntimeError):
    """Every conversion slot stayed taken for ``queue_seconds``: try again shortly."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipLimits:
    max_bytes: int
    max_seconds: float
    concurrent: int = 1
    """Clips converted at the same time (each a process with its own ``tool`` limits)."""
    queue_seconds: float = 30.0
    """How long a clip waits for a free slot before :class:`ClipBusy`."""
    tool: ToolLimits

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_seconds <= 0:
            raise ValueError("max_bytes and max_seconds must be positive")
        if self.concurrent < 1:
            raise ValueError(f"concurrent must be 1 or more, got {self.concurrent}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalisedClip:
    mp4: bytes
    """H.264 High Profile (level <= 4.2) in an MP4 with its index first; video only."""
    rows: int
    columns: int
    frames: int
    frame_rate: Fraction
    duration: float
    """Seconds."""
    level: int
    """H.264 ``level_idc`` of the stored stream (41, 42...): picks the transfer syntax."""
    source_format: ClipFormat
    source_codec: str
    transcode_reasons: tuple[str, ...]
    """Why the upload was transcoded; empty when its own stream was kept."""
    poster: bytes
    """JPEG of one frame, longest side at most 320 pixels, no metadata."""
    recorded_at: datetime | None = None
    """When the upload's container says it was recorded (timezone-aware), as it said it:
    whether that is plausible is the caller's to judge. Not kept in the stored MP4."""

    @property
    def transcoded(self) -> bool:
        return bool(self.transcode_reasons)


class ClipNormaliser:
    def __init__(self, tools: VideoTools, limits: ClipLimits) -> None:
        self.tools = tools
        self.limits = limits
        self.slots = threading.BoundedSemaphore(limits.concurrent)
        """One per clip being converted; a clip waits ``queue_seconds`` at most for one."""

    def normalise(self, data: bytes) -> NormalisedClip:
        if not data:
            raise UnreadableClip("The file is empty. Please record or choose the clip again.")
        if len(data) > self.limits.max_bytes:
            raise ClipTooLarge(
                f"The clip is {_megabytes(len(data))}; clips may be at most "
                f"{_megabytes(self.limits.max_bytes)}."
            )
        clip_format = sniff_clip(data)
        if clip_format is None:
            raise UnsupportedClip(
                "This file is not a video clip we can store. Please send an MP4, MOV or WebM clip."
            )
        if not self.slots.acquire(timeout=self.limits.queue_seconds):
            raise ClipBusy("Every clip conversion slot is taken")
        try:
            with tempfile.TemporaryDirectory(prefix="pointcare-clip-") as folder:
                return self._normalise(Path(folder), data, clip_format)
        finally:
            self.slots.release()

    def _normalise(self, folder: Path, data: bytes, clip_format: ClipFormat) -> NormalisedClip:
        upload = folder / _INPUT_NAME
        upload.write_bytes(data)
        source = self._probe(upload, clip_format)
        video = self._check(source)
        reasons = conformance.reasons_to_transcode(video)
        output = folder / _OUTPUT_NAME
        try:
            if reasons:
                self._transcode(upload, clip_format, source, video, output)
            else:
                self._wrap(upload, clip_format, output)
        except ToolTimedOut:
            raise ClipTooLarge(
                f"The clip could not be converted within {self.limits.tool.timeout_seconds:g} "
                "seconds. Please send a shorter clip."
            ) from None
        except ToolFailed as exc:
            if exc.out_of_memory:
                raise ClipTooLarge(
                    "The clip needs more memory to convert than one clip may use here. "
                    "Please send a shorter or smaller clip."
                ) from None
            log.info("clip refused: ffmpeg could not read it (%s)", exc.last_words)
            raise UnreadableClip(_DAMAGED) from None
        stored = self._probe(output, ClipFormat.MP4)
        stream = self._stored_stream(stored)
        frame_rate = conformance.nominal_rate(
            stream.frame_rate or stored.measured_rate or Fraction(30)
        )
        try:
            still = poster.poster_frame(
                self.tools, output, stored.duration, (stream.width, stream.height), self._quick
            )
        except (ToolFailed, ToolTimedOut):
            still = None
        if still is None:
            raise UnreadableClip(_NO_FRAME)
        return NormalisedClip(
            mp4=output.read_bytes(),
            rows=stream.height,
            columns=stream.width,
            frames=stored.frames,
            frame_rate=frame_rate,
            duration=stored.duration,
            level=stream.level or conformance.MAX_LEVEL,
            source_format=clip_format,
            source_codec=video.codec,
            transcode_reasons=reasons,
            poster=still,
            recorded_at=source.recorded_at,
        )

    @property
    def _quick(self) -> ToolLimits:
        """Limits for a probe or the poster: reading a little, never converting."""
        tool = self.limits.tool
        return ToolLimits(
            timeout_seconds=PROBE_SECONDS,
            memory_bytes=tool.memory_bytes,
            threads=tool.threads,
        )

    def _probe(self, path: Path, clip_format: ClipFormat) -> ClipProbe:
        try:
            return probe_clip(self.tools, path, clip_format, self._quick)
        except (ToolFailed, ToolTimedOut, ValueError) as exc:
            log.info("clip refused: ffprobe could not read it (%s)", exc)
            raise UnreadableClip(_DAMAGED) from None

    def _check(self, probe: ClipProbe) -> VideoStream:
        video = probe.video
        if video is None:
            if "audio" in probe.other_streams:
                raise NoPicture("The file holds sound but no picture. Please send a video clip.")
            raise NoPicture("The file holds no video. Please send a video clip.")
        if probe.frames == 0 or probe.keyframes == 0 or video.width < 1 or video.height < 1:
            raise UnreadableClip(_NO_FRAME)
        if probe.cut_short:
            raise UnreadableClip(_DAMAGED)
        if video.width * video.height > MAX_SOURCE_PIXELS:
            raise ClipTooLarge(
                f"The clip's picture is {video.width} x {video.height}; pictures up to 4K "
                "(4096 x 2304) are accepted."
            )
        limit = self.limits.max_seconds
        if probe.duration > limit + DURATION_TOLERANCE:
            raise ClipTooLarge(
                f"The clip lasts {probe.duration:.0f} seconds; clips may last at most "
                f"{limit:g} seconds. Please record a shorter one."
            )
        return video

    def _stored_stream(self, stored: ClipProbe) -> VideoStream:
        stream = stored.video
        if stream is None or stored.frames == 0:
            raise UnreadableClip(_NO_FRAME)
        still_wrong = conformance.reasons_to_transcode(stream)
        if still_wrong:  # pragma: no cover - a conversion that misses its own target is a bug
            raise RuntimeError(f"converted clip is not storable: {', '.join(still_wrong)}")
        return stream

    def _wrap(self, upload: Path, clip_format: ClipFormat, output: Path) -> None:
        """The upload's own stream into a fresh MP4, every frame decoded on the way (to a null
        output) so that a damaged stream is refused rather than stored."""
        self.tools.run_ffmpeg(
            [
                *self._video_of(upload, clip_format),
                *("-c:v", "copy", *_STRIP, "file:" + output.name),
                *("-map", "0:v:0", "-f", "null", "-"),
            ],
            self.limits.tool,
            cwd=upload.parent,
        )

    def _video_of(self, upload: Path, clip_format: ClipFormat) -> list[str]:
        """ffmpeg's arguments up to the first output: the upload, through its one demuxer,
        stopping at the first error, its first video stream chosen."""
        threads = str(self.limits.tool.threads)
        return [
            *("-xerror", "-threads", threads, "-f", clip_format.demuxer),
            *("-i", "file:" + upload.name, "-map", "0:v:0"),
        ]

    def _transcode(
        self,
        upload: Path,
        clip_format: ClipFormat,
        source: ClipProbe,
        video: VideoStream,
        output: Path,
    ) -> None:
        width, height = conformance.target_size(video)
        rate = conformance.target_rate(video.frame_rate, source.measured_rate)
        level = conformance.transcode_level((width, height), rate)
        filters = (
            [_HLG_TO_SDR if video.transfer == "arib-std-b67" else _PQ_TO_SDR] if video.hdr else []
        )
        # ffmpeg turns the picture upright itself (autorotate) before these filters run.
        filters += [
            f"scale={width}:{height}:flags=bicubic",
            "setsar=1",
            f"fps={rate.numerator}/{rate.denominator}",
            f"format={conformance.STORED_PIXEL_FORMAT}",
        ]
        threads = str(self.limits.tool.threads)
        self.tools.run_ffmpeg(
            [
                *self._video_of(upload, clip_format),
                "-vf",
                ",".join(filters),
                "-filter_threads",
                threads,
                "-c:v",
                "libx264",
                "-threads",
                threads,
                "-preset",
                X264_PRESET,
                "-crf",
                str(X264_CRF),
                "-maxrate",
                X264_MAX_BITRATE,
                "-bufsize",
                X264_BUFFER,
                "-g",
                str(max(1, round(rate * KEYFRAME_SECONDS))),
                "-profile:v",
                "high",
                "-level:v",
                f"{level / 10:.1f}",
                *(
                    ("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
                    if video.hdr
                    else ()
                ),
                *_STRIP,
                "file:" + output.name,
            ],
            self.limits.tool,
            cwd=upload.parent,
        )


_DAMAGED = (
    "The clip could not be read or converted: the file is damaged or incomplete. "
    "Please send it again."
)
_NO_FRAME = "No picture in this clip could be decoded. Please record or send it again."


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"
