"""The server's clip converter, as the capture services see it: every refusal an application
error with its status, a busy queue and a missing ffmpeg a 503."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pointcare.capture.clips import ClipIntake, clip_limits, clip_refused
from pointcare.errors import (
    InvalidInput,
    PayloadTooLarge,
    PointcareError,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from pointcare.settings import Settings
from pointcare.video.clip import ClipTooLarge, NoPicture, UnreadableClip, UnsupportedClip
from tests.support import clips as made
from tests.support.clips import ClipFactory


@pytest.mark.parametrize(
    ("refusal", "answer", "status"),
    [
        (UnsupportedClip("not a clip"), UnsupportedMediaType, 415),
        (ClipTooLarge("too long"), PayloadTooLarge, 413),
        (UnreadableClip("damaged"), InvalidInput, 422),
        (NoPicture("sound only"), InvalidInput, 422),
    ],
)
def test_each_refusal_has_its_status_and_names_the_field(
    refusal: Exception, answer: type[PointcareError], status: int
) -> None:
    error = clip_refused(refusal, "file")  # type: ignore[arg-type]
    assert isinstance(error, answer) and error.status_code == status
    assert error.errors == {"file": str(refusal)}


def test_the_settings_become_the_limits() -> None:
    limits = clip_limits(
        Settings(video_max_seconds=30, video_concurrent_conversions=2, video_convert_threads=3)
    )
    assert (limits.max_seconds, limits.concurrent, limits.tool.threads) == (30, 2, 3)


def test_a_server_without_ffmpeg_says_so_with_a_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-tools")))
    intake = ClipIntake(clip_limits(Settings()))
    with pytest.raises(ServiceUnavailable, match="cannot store video clips"):
        intake.normalise(b"\x00\x00\x00\x18ftypmp42" + bytes(100))


def test_a_full_queue_is_a_503_to_retry(clips: ClipFactory) -> None:
    intake = ClipIntake(replace(clip_limits(Settings()), queue_seconds=0.05))
    upload = clips.make(made.UPRIGHT_MP4)
    normaliser = intake.normaliser()
    assert normaliser.slots.acquire(timeout=1)
    try:
        with pytest.raises(ServiceUnavailable, match="sent again shortly"):
            intake.normalise(upload)
    finally:
        normaliser.slots.release()
    with pytest.raises(UnsupportedMediaType):
        intake.normalise(b"not a clip at all, not even close")
