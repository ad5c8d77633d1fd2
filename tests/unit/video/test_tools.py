"""ffmpeg runs as a bounded process: its time, its memory and its environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pointcare.video.tools import ToolFailed, ToolLimits, ToolMissing, ToolTimedOut, VideoTools
from tests.support.clips import CLIP_TOOL_LIMITS as TOOL_LIMITS


def test_a_run_over_its_time_is_killed(tools: VideoTools, tmp_path: Path) -> None:
    endless = ["-f", "lavfi", "-i", "testsrc2=size=1280x720", "-f", "null", "-"]
    with pytest.raises(ToolTimedOut, match=r"longer than 0\.5 s"):
        tools.run_ffmpeg(
            endless, ToolLimits(timeout_seconds=0.5, memory_bytes=1024**3, threads=1), cwd=tmp_path
        )


def test_a_run_over_its_memory_fails_and_says_so(tools: VideoTools, tmp_path: Path) -> None:
    args = ["-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", "-f", "null", "-"]
    tools.run_ffmpeg(args, TOOL_LIMITS, cwd=tmp_path)  # fine within the usual limit
    with pytest.raises(ToolFailed) as failure:
        tools.run_ffmpeg(
            args, ToolLimits(timeout_seconds=10, memory_bytes=64 * 1024**2, threads=1), cwd=tmp_path
        )
    assert failure.value.out_of_memory


def test_a_failure_keeps_the_tools_last_words(tools: VideoTools, tmp_path: Path) -> None:
    with pytest.raises(ToolFailed) as failure:
        tools.run_ffprobe(["file:missing.mp4"], TOOL_LIMITS, cwd=tmp_path)
    assert failure.value.returncode != 0
    assert "No such file" in failure.value.last_words
    assert not failure.value.out_of_memory


def test_the_tool_sees_no_secrets_from_the_environment(
    tools: VideoTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POINTCARE_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    # ffmpeg prints its environment's effect nowhere; read the child's own environment instead.
    script = tmp_path / "env.sh"
    script.write_text("#!/bin/sh\nenv\n")
    script.chmod(0o755)
    echo = VideoTools(
        ffmpeg=str(script), ffprobe=str(script), prlimit=tools.prlimit, nice=tools.nice
    )
    seen = echo.run_ffprobe([], TOOL_LIMITS, cwd=tmp_path).decode()
    assert "do-not-leak" not in seen and "proxy.invalid" not in seen
    assert "PATH=" in seen


def test_missing_tools_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing, match="ffmpeg, ffprobe, nice, prlimit not found"):
        VideoTools.find()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"memory_bytes": 1024}, "at least 64 MiB"),
        ({"threads": 0}, "threads"),
    ],
)
def test_limits_are_checked(change: dict[str, float], words: str) -> None:
    fields = {"timeout_seconds": 10.0, "memory_bytes": 1024**3, "threads": 2} | change
    with pytest.raises(ValueError, match=words):
        ToolLimits(**fields)  # type: ignore[arg-type]
