"""What a stored clip's stream must be, and the transcode target when an upload is not that.

The archive keeps H.264 High Profile at level 4.1 or 4.2 (the MPEG-4 AVC/H.264 transfer
syntaxes of PS3.5 8.2.7 and 8.2.8), 8-bit 4:2:0, progressive, upright, with square pixels,
within 1920 x 1080 (either way round). Every browser plays it, and DICOM carries it as it is.
A stream that already is all this is wrapped without re-encoding; anything else (VP8 or VP9
from a browser's WebM, HEVC from an iPhone, Baseline or Main profile, a rotation flag, 4K) is
transcoded once to it.
"""

from __future__ import annotations

from fractions import Fraction

from pointcare.video.probe import VideoStream

H264_HIGH = "High"
MAX_LEVEL = 42
"""Level 4.2: the highest an MPEG-4 AVC/H.264 2D transfer syntax names."""
MAX_LONG_SIDE = 1920
MAX_SHORT_SIDE = 1080
MAX_RATE = Fraction(60)
"""Frames per second kept when transcoding: a tremor or a gait is seen at a phone's 60."""
LEVEL_MACROBLOCKS_PER_SECOND = ((41, 245_760), (42, 522_240))
"""H.264 Table A-1 MaxMBPS of the two levels a transcode may declare: 1080 lines at 30 frames/s
fit level 4.1; at 60, level 4.2. Both allow a 1920 x 1080 frame (8,160 macroblocks)."""
STORED_PIXEL_FORMAT = "yuv420p"
NTSC_RATES = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001))
NOMINAL_RATE_TOLERANCE = Fraction(1, 200)
"""A measured rate within 0.5 % of a camera's nominal one (30, 29.97...) is that rate: timestamps
in milliseconds (WebM, Matroska) make 30 frames/s read as 30.003."""


def reasons_to_transcode(stream: VideoStream) -> tuple[str, ...]:
    """Why ``stream`` cannot be stored as it is: empty when it is wrapped without re-encoding."""
    reasons: list[str] = []
    if stream.codec != "h264":
        reasons.append(f"{stream.codec.upper() or 'unknown'} video")
    elif stream.profile != H264_HIGH:
        reasons.append(f"H.264 {stream.profile or 'unknown'} profile")
    elif stream.level is None or stream.level > MAX_LEVEL:
        reasons.append(f"H.264 level {_level_name(stream.level)}")
    if stream.hdr:
        reasons.append("HDR")
    if stream.pixel_format != STORED_PIXEL_FORMAT:
        reasons.append(f"pixel format {stream.pixel_format or 'unknown'}")
    if stream.field_order not in ("progressive", ""):
        reasons.append("interlaced")
    if stream.rotation:
        reasons.append(f"rotated {stream.rotation} degrees")
    if stream.sample_aspect_ratio != 1:
        reasons.append("non-square pixels")
    if not fits_frame(stream.width, stream.height):
        reasons.append(f"{stream.width} x {stream.height} is larger than 1920 x 1080")
    return tuple(reasons)


def fits_frame(width: int, height: int) -> bool:
    return max(width, height) <= MAX_LONG_SIDE and min(width, height) <= MAX_SHORT_SIDE


def target_size(stream: VideoStream) -> tuple[int, int]:
    """(width, height) of the transcoded picture: the upright display size, scaled down to fit
    1920 x 1080 either way round, each side even (4:2:0 needs it)."""
    width, height = stream.display_size
    scale = min(
        Fraction(1),
        Fraction(MAX_LONG_SIDE, max(width, height)),
        Fraction(MAX_SHORT_SIDE, min(width, height)),
    )
    return _even(width * scale), _even(height * scale)


def target_rate(declared: Fraction | None, measured: Fraction | None) -> Fraction:
    """The constant frame rate of the transcoded clip: the source's (declared, or measured over
    the clip for a variable-rate recording), a whole or NTSC rate, at most 60 and at least 1."""
    rate = declared if declared is not None and 0 < declared <= 240 else measured
    if rate is None:
        return Fraction(30)
    snapped = nominal_rate(rate)
    if snapped.denominator not in (1, 1001):  # a variable-rate recording's average
        snapped = Fraction(round(rate))
    return max(Fraction(1), min(MAX_RATE, snapped))


def nominal_rate(rate: Fraction) -> Fraction:
    """``rate`` snapped to the nearest whole or NTSC rate within 0.5 % of it, else unchanged."""
    candidates = [c for c in (*NTSC_RATES, Fraction(round(rate))) if c > 0]
    nearest = min(candidates, key=lambda candidate: abs(rate - candidate), default=rate)
    if abs(rate - nearest) <= nearest * NOMINAL_RATE_TOLERANCE:
        return nearest
    return rate


def transcode_level(size: tuple[int, int], rate: Fraction) -> int:
    """The lowest level (4.1 or 4.2) whose macroblock rate holds ``size`` at ``rate``."""
    macroblocks = -(-size[0] // 16) * -(-size[1] // 16)
    for level, per_second in LEVEL_MACROBLOCKS_PER_SECOND:
        if macroblocks * rate <= per_second:
            return level
    raise ValueError(f"{size[0]} x {size[1]} at {float(rate):.2f} frames/s exceeds level 4.2")


def _even(value: Fraction) -> int:
    return max(2, int(value) // 2 * 2)


def _level_name(level: int | None) -> str:
    return "unknown" if level is None else f"{level // 10}.{level % 10}"
