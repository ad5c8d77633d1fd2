"""Clips from phones, cameras and browsers become one storable H.264 MP4 each, with nothing of
their metadata, upright; bad ones are refused with a reason. Every clip is real: made by ffmpeg
as a phone writes it, or recorded by Chromium's MediaRecorder."""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pointcare.video.clip import (
    ClipBusy,
    ClipLimits,
    ClipNormaliser,
    ClipRejected,
    ClipTooLarge,
    NoPicture,
    NormalisedClip,
    UnreadableClip,
    UnsupportedClip,
)
from pointcare.video.formats import ClipFormat
from pointcare.video.tools import VideoTools
from tests.support import clips as made
from tests.support.clips import CLIP_LIMITS as LIMITS
from tests.support.clips import CLIP_TOOL_LIMITS as TOOL_LIMITS
from tests.support.clips import (
    RECORDED_TYPES,
    TRACES,
    ClipFactory,
    ClipSpec,
    run_on,
    stream_hash,
)
from tests.support.dicom_checks import jpeg_has_metadata, jpeg_size
from tests.support.tools import corpus

KEPT_STREAM_TAGS = frozenset({"handler_name", "vendor_id", "encoder", "language"})
"""What ffmpeg's MP4 muxer itself writes for a track: nothing of the upload's."""
FILE_TYPE_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands"})
"""ffprobe's reading of the ftyp box: the file's format, not metadata."""


def ffprobe(clip: bytes) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(
        run_on(clip, "ffprobe", "-show_format", "-show_streams", "-of", "json", "{}")
    )
    return report


def assert_storable(clip: NormalisedClip, *, size: tuple[int, int]) -> dict[str, Any]:
    """The stored stream is what the archive keeps, as an independent ffprobe reads it."""
    report = ffprobe(clip.mp4)
    (stream,) = report["streams"]
    assert stream["codec_name"] == "h264"
    assert stream["profile"] == "High"
    assert stream["level"] <= 42 and stream["level"] == clip.level
    assert stream["pix_fmt"] == "yuv420p"
    assert not stream.get("side_data_list"), "a rotation flag survived"
    assert (stream["width"], stream["height"]) == size == (clip.columns, clip.rows)
    assert int(stream["nb_frames"]) == clip.frames > 0
    assert clip.mp4[4:8] == b"ftyp"
    assert clip.mp4.index(b"moov") < clip.mp4.index(b"mdat"), "index not first"
    poster = Image.open(io.BytesIO(clip.poster))
    assert poster.format == "JPEG"
    assert not jpeg_has_metadata(clip.poster)
    width, height = jpeg_size(clip.poster)
    assert max(width, height) <= 320
    assert (width > height) == (size[0] > size[1]), "the poster is not upright like the clip"
    return report


@pytest.mark.parametrize(
    ("spec", "size", "kept", "why"),
    [
        (made.PHONE_MOV, (360, 640), False, "rotated 90 degrees"),
        (made.UPRIGHT_MP4, (640, 360), True, ""),
        (made.UPRIGHT_MOV, (640, 360), True, ""),
        (made.HEVC_HDR_MOV, (360, 640), False, "HEVC video"),
        (made.VP9_WEBM, (640, 360), False, "VP9 video"),
        (made.VP8_WEBM, (640, 360), False, "VP8 video"),
        (made.BASELINE_MP4, (640, 360), False, "H.264 Constrained Baseline profile"),
        (made.H264_MKV, (640, 360), True, ""),
        (made.UHD_MP4, (1920, 1080), False, "3840 x 2160 is larger than 1920 x 1080"),
        (made.HD60_MP4, (1920, 1080), True, ""),
    ],
    ids=lambda value: value.name if isinstance(value, ClipSpec) else None,
)
def test_every_clip_becomes_an_upright_h264_high_mp4(
    clips: ClipFactory,
    clip_normaliser: ClipNormaliser,
    spec: ClipSpec,
    size: tuple[int, int],
    kept: bool,
    why: str,
) -> None:
    clip = clip_normaliser.normalise(clips.make(spec))
    assert_storable(clip, size=size)
    assert clip.transcoded is not kept
    if why:
        assert why in clip.transcode_reasons
    assert clip.duration == pytest.approx(spec.seconds, abs=0.1)


def test_a_conformant_stream_is_kept_byte_for_byte(
    clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    for spec, demuxer in ((made.UPRIGHT_MP4, "mov"), (made.H264_MKV, "matroska")):
        upload = clips.make(spec)
        clip = clip_normaliser.normalise(upload)
        assert not clip.transcoded
        assert stream_hash(clip.mp4, "mov") == stream_hash(upload, demuxer)


def test_sixty_frames_a_second_at_1080_lines_is_level_4_2(
    clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    clip = clip_normaliser.normalise(clips.make(made.HD60_MP4))
    assert clip.level == 42
    assert clip.frame_rate == 60


@pytest.mark.parametrize(
    ("spec", "carried"),
    [
        (made.PHONE_MOV, (b"\xa9xyz", b"+59.3293", b"iPhone", b"xmpmeta")),
        (made.UPRIGHT_MOV, (b"\xa9xyz", b"+59.3293", b"iPhone", b"xmpmeta")),
        (made.HEVC_HDR_MOV, (b"ISO6709", b"+59.3293", b"iPhone", b"xmpmeta")),
    ],
    ids=["android-rotated", "android-kept", "iphone-hevc"],
)
def test_no_metadata_of_the_phone_reaches_the_stored_clip(
    clips: ClipFactory, clip_normaliser: ClipNormaliser, spec: ClipSpec, carried: tuple[bytes, ...]
) -> None:
    upload = clips.make(spec)
    # What the upload carries: location (©xyz in udta, or the ISO6709 key in meta), the device,
    # an XMP packet with GPS.
    for trace in carried:
        assert trace in upload
    clip = clip_normaliser.normalise(upload)
    found = [trace for trace in TRACES if trace in clip.mp4]
    assert found == []
    report = ffprobe(clip.mp4)
    assert set(report["format"].get("tags", {})) <= FILE_TYPE_TAGS
    (stream,) = report["streams"]
    assert set(stream.get("tags", {})) <= KEPT_STREAM_TAGS
    assert "creation_time" not in stream.get("tags", {})


@pytest.mark.slow
@pytest.mark.parametrize("mime", RECORDED_TYPES)
def test_chromium_recordings_are_stored(
    recorded: dict[str, bytes], clip_normaliser: ClipNormaliser, mime: str
) -> None:
    clip = clip_normaliser.normalise(recorded[mime])
    assert_storable(clip, size=(1280, 720))
    # Chromium's MP4 with H.264 High is kept; Baseline, VP8 and VP9 are transcoded.
    assert clip.transcoded is (mime != "video/mp4;codecs=avc1.64001f")
    assert clip.source_format in (ClipFormat.MP4, ClipFormat.WEBM, ClipFormat.MATROSKA)
    assert 0 < clip.duration <= 2.5


# --- Refusals ------------------------------------------------------------------------------------


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _corrupted(data: bytes) -> bytes:
    """20 kB of noise a third of the way in: inside the frames."""
    start = len(data) // 3
    noise = bytes((i * 131 + 7) % 256 for i in range(20_000))
    return data[:start] + noise + data[start + len(noise) :]


def _frames_blanked(data: bytes) -> bytes:
    """Every byte of the frames zeroed: the index is whole, no frame decodes."""
    start = data.index(b"mdat") + 4
    return data[:start] + bytes(len(data) - start)


@pytest.mark.parametrize(
    ("spec", "damage", "refusal", "words"),
    [
        (made.UPRIGHT_MP4, _truncated, UnreadableClip, "damaged or incomplete"),
        (made.PHONE_MOV, _truncated, UnreadableClip, "damaged or incomplete"),
        (made.VP9_WEBM, _truncated, UnreadableClip, "damaged or incomplete"),
        (made.UPRIGHT_MP4, _corrupted, UnreadableClip, "damaged or incomplete"),
        (made.BASELINE_MP4, _frames_blanked, UnreadableClip, "could not be"),
        (made.AUDIO_ONLY, lambda data: data, NoPicture, "sound but no picture"),
    ],
    ids=["truncated-mp4", "truncated-mov", "truncated-webm", "corrupt", "no-frame", "audio"],
)
def test_damaged_clips_and_sound_alone_are_refused(
    clips: ClipFactory,
    clip_normaliser: ClipNormaliser,
    spec: ClipSpec,
    damage: Any,
    refusal: type[ClipRejected],
    words: str,
) -> None:
    with pytest.raises(refusal, match=words):
        clip_normaliser.normalise(damage(clips.make(spec)))


@pytest.mark.parametrize(
    ("data", "refusal", "words"),
    [
        (b"", UnreadableClip, "empty"),
        (b"%PDF-1.7\n" + bytes(5000), UnsupportedClip, "MP4, MOV or WebM"),
        (b"\xff\xd8\xff\xe0" + bytes(5000), UnsupportedClip, "not a video clip"),
        (bytes(range(256)) * 40, UnsupportedClip, "not a video clip"),
    ],
    ids=["empty", "pdf", "jpeg", "noise"],
)
def test_what_is_no_clip_is_refused(
    clip_normaliser: ClipNormaliser, data: bytes, refusal: type[ClipRejected], words: str
) -> None:
    with pytest.raises(refusal, match=words):
        clip_normaliser.normalise(data)


def test_an_iphone_still_is_not_taken_for_a_clip(clip_normaliser: ClipNormaliser) -> None:
    heic = next(corpus("photos", "heic").iterdir()).read_bytes()
    with pytest.raises(UnsupportedClip):
        clip_normaliser.normalise(heic)


def test_clips_over_the_limits_are_refused(clips: ClipFactory, tools: VideoTools) -> None:
    upload = clips.make(made.UPRIGHT_MP4)  # 2 seconds
    short = ClipNormaliser(tools, replace(LIMITS, max_seconds=0.5))
    with pytest.raises(ClipTooLarge, match=r"clips may last at most 0\.5 seconds"):
        short.normalise(upload)
    small = ClipNormaliser(tools, replace(LIMITS, max_bytes=len(upload) - 1))
    with pytest.raises(ClipTooLarge, match="MB; clips may be at most"):
        small.normalise(upload)
    huge = clips.make(
        ClipSpec(
            name="8k.mp4",
            size=(4800, 2400),
            seconds=0.1,
            codec=("-c:v", "libx264", "-preset", "ultrafast"),
        )
    )
    with pytest.raises(ClipTooLarge, match="4800 x 2400"):
        ClipNormaliser(tools, LIMITS).normalise(huge)


def test_a_conversion_over_its_time_is_stopped(clips: ClipFactory, tools: VideoTools) -> None:
    hasty = ClipNormaliser(tools, replace(LIMITS, tool=replace(TOOL_LIMITS, timeout_seconds=0.2)))
    with pytest.raises(ClipTooLarge, match=r"within 0\.2 seconds"):
        hasty.normalise(clips.make(made.UHD_MP4))


def test_a_conversion_over_its_memory_is_refused(clips: ClipFactory, tools: VideoTools) -> None:
    frugal = ClipNormaliser(
        tools, replace(LIMITS, tool=replace(TOOL_LIMITS, memory_bytes=300 * 1024 * 1024))
    )
    # Short of memory, a decoder reports it as broken slices, an encoder as a failed allocation:
    # either way the clip is refused, and the process ends at its cap.
    with pytest.raises((ClipTooLarge, UnreadableClip)):
        frugal.normalise(clips.make(made.UHD_MP4))


def test_a_clip_that_waits_too_long_for_its_turn_is_told_to_retry(
    clips: ClipFactory, tools: VideoTools
) -> None:
    busy = ClipNormaliser(tools, replace(LIMITS, concurrent=1, queue_seconds=0.05))
    upload = clips.make(made.UPRIGHT_MP4)
    assert busy.slots.acquire(timeout=1)  # another clip is converting
    try:
        with pytest.raises(ClipBusy):
            busy.normalise(upload)
    finally:
        busy.slots.release()
    assert busy.normalise(upload).frames > 0


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="concurrent"):
        ClipLimits(max_bytes=1, max_seconds=1, concurrent=0, tool=TOOL_LIMITS)
    with pytest.raises(ValueError, match="positive"):
        ClipLimits(max_bytes=1, max_seconds=0, tool=TOOL_LIMITS)


def test_nothing_is_left_in_the_temporary_folder(
    clips: ClipFactory,
    clip_normaliser: ClipNormaliser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    clip_normaliser.normalise(clips.make(made.VP9_WEBM))
    with pytest.raises(UnreadableClip):
        clip_normaliser.normalise(_truncated(clips.make(made.UPRIGHT_MP4)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "recorded"),
    [
        (made.PHONE_MOV, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),  # Android: creation_time
        (made.HEVC_HDR_MOV, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),  # iPhone: its own key
        (made.UPRIGHT_MP4, None),  # says nothing
    ],
    ids=["android", "iphone", "none"],
)
def test_the_upload_says_when_it_was_recorded_and_the_stored_clip_does_not(
    clips: ClipFactory, clip_normaliser: ClipNormaliser, spec: ClipSpec, recorded: datetime | None
) -> None:
    clip = clip_normaliser.normalise(clips.make(spec))
    assert clip.recorded_at == recorded
    assert b"2024-01-02" not in clip.mp4
