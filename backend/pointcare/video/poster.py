"""A clip's poster: one frame, small, as the JPEG thumbnail the review pages show for it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from pointcare.imaging.photo import THUMBNAIL_MAX_SIDE, thumbnail_jpeg
from pointcare.video.tools import ToolLimits, VideoTools

POSTER_AT_SECONDS = 1.0
"""A second in, or halfway through a shorter clip: a first frame is often dark or blurred."""


def poster_frame(
    tools: VideoTools,
    clip: Path,
    duration: float,
    size: tuple[int, int],
    limits: ToolLimits,
) -> bytes | None:
    """JPEG of the frame at :data:`POSTER_AT_SECONDS` of ``clip`` (an MP4 we wrote), longest
    side at most 320 pixels, no metadata; the first frame when seeking there finds none (a
    recorder's clip of a few frames with uneven timestamps); None when no frame decodes."""
    width, height = size
    scale = min(1.0, THUMBNAIL_MAX_SIDE / max(width, height))
    for seek in (min(POSTER_AT_SECONDS, duration / 2), 0.0):
        png = tools.run_ffmpeg(
            [
                *(("-ss", f"{seek:.3f}") if seek else ()),
                *("-f", "mp4", "-i", "file:" + clip.name, "-frames:v", "1"),
                "-vf",
                f"scale={max(1, round(width * scale))}:{max(1, round(height * scale))}",
                *("-pix_fmt", "rgb24", "-f", "image2pipe", "-c:v", "png", "-"),
            ],
            limits,
            cwd=clip.parent,
        )
        if png:
            with Image.open(io.BytesIO(png)) as frame:
                frame.load()
                return thumbnail_jpeg(frame)
    return None
