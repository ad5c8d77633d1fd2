"""A clip's poster: a frame a second in, or its first when there is nothing there."""

from __future__ import annotations

from pathlib import Path

from pointcare.video.poster import poster_frame
from pointcare.video.tools import VideoTools
from tests.support.clips import CLIP_TOOL_LIMITS, ClipFactory, ClipSpec
from tests.support.dicom_checks import jpeg_has_metadata, jpeg_size

HALF_SECOND = ClipSpec(name="half-second.mp4", seconds=0.5, size=(320, 180))


def test_a_seek_past_the_last_frame_falls_back_to_the_first(
    clips: ClipFactory, tools: VideoTools, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(clips.make(HALF_SECOND))
    # Told it lasts ten seconds, the poster is sought a second in: past its last frame.
    poster = poster_frame(tools, clip, 10.0, (320, 180), CLIP_TOOL_LIMITS)
    assert poster is not None
    assert jpeg_size(poster) == (320, 180)
    assert not jpeg_has_metadata(poster)
