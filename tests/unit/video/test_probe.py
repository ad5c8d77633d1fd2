"""ffprobe's report read into what a clip holds: the first real video stream, its turn, the time
its packets span, whether it was cut short."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pointcare.video.formats import ClipFormat
from pointcare.video.probe import parse_probe, probe_clip
from pointcare.video.tools import VideoTools
from tests.support import clips as made
from tests.support.clips import CLIP_TOOL_LIMITS as TOOL_LIMITS
from tests.support.clips import ClipFactory


def report(streams: list[dict[str, Any]], packets: list[dict[str, Any]], **fmt: Any) -> bytes:
    return json.dumps({"streams": streams, "packets": packets, "format": fmt}).encode()


VIDEO = {
    "index": 0,
    "codec_type": "video",
    "codec_name": "h264",
    "profile": "High",
    "level": 41,
    "width": 1920,
    "height": 1080,
    "pix_fmt": "yuv420p",
    "field_order": "progressive",
    "sample_aspect_ratio": "1:1",
    "avg_frame_rate": "30/1",
}
AUDIO = {"index": 1, "codec_type": "audio", "codec_name": "aac"}


def packets(stream: int, count: int, step: float = 1 / 30) -> list[dict[str, Any]]:
    return [
        {
            "stream_index": stream,
            "pts_time": f"{i * step:.6f}",
            "duration_time": f"{step:.6f}",
            "flags": "K_" if i == 0 else "__",
        }
        for i in range(count)
    ]


def test_a_phone_clip_is_read_from_its_streams_and_packets() -> None:
    probe = parse_probe(report([VIDEO, AUDIO], packets(0, 90) + packets(1, 140, 1 / 47)))
    assert probe.video is not None
    assert probe.video.codec == "h264" and probe.video.level == 41
    assert probe.video.frame_rate == 30
    assert probe.other_streams == ("audio",)
    assert (probe.frames, probe.keyframes) == (90, 1)
    assert probe.duration == pytest.approx(3.0)
    assert probe.measured_rate == pytest.approx(30)


@pytest.mark.parametrize(
    ("side_data", "tags", "rotation", "display"),
    [
        ([{"rotation": -90}], {}, 270, (1080, 1920)),
        ([{"rotation": 90}], {}, 90, (1080, 1920)),
        ([{"rotation": 180}], {}, 180, (1920, 1080)),
        ([], {"rotate": "90"}, 90, (1080, 1920)),
        ([{"rotation": 89.6}], {}, 90, (1080, 1920)),
        ([], {}, 0, (1920, 1080)),
    ],
)
def test_the_turn_comes_from_the_display_matrix_or_the_rotate_tag(
    side_data: list[dict[str, Any]], tags: dict[str, str], rotation: int, display: tuple[int, int]
) -> None:
    stream = VIDEO | {"side_data_list": side_data, "tags": tags}
    video = parse_probe(report([stream], packets(0, 2))).video
    assert video is not None
    assert video.rotation == rotation
    assert video.display_size == display


def test_cover_art_is_not_the_recording() -> None:
    cover = VIDEO | {"codec_name": "mjpeg", "disposition": {"attached_pic": 1}}
    probe = parse_probe(report([cover, AUDIO], packets(1, 10)))
    assert probe.video is None
    assert probe.other_streams == ("video", "audio")


def test_a_webm_without_rates_or_levels_is_measured() -> None:
    stream = VIDEO | {
        "codec_name": "vp8",
        "level": -99,
        "avg_frame_rate": "0/0",
        "sample_aspect_ratio": "0:1",
    }
    probe = parse_probe(report([stream], packets(0, 40, 0.05)))
    assert probe.video is not None
    assert probe.video.level is None and probe.video.frame_rate is None
    assert probe.video.sample_aspect_ratio == 1
    assert probe.measured_rate == pytest.approx(20)


def test_packets_that_stop_short_of_the_declared_duration_are_a_cut_file() -> None:
    whole = parse_probe(report([VIDEO], packets(0, 60), duration="2.000000"))
    cut = parse_probe(report([VIDEO], packets(0, 30), duration="2.000000"))
    recorder = parse_probe(report([VIDEO], packets(0, 30)))  # a live recording declares none
    assert not whole.cut_short
    assert cut.cut_short
    assert not recorder.cut_short


def test_a_report_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_probe(b"Invalid data found when processing input")


@pytest.mark.parametrize(
    ("spec", "clip_format", "codec", "rotation", "frames"),
    [
        (made.PHONE_MOV, ClipFormat.QUICKTIME, "h264", 90, 60),
        (made.VP9_WEBM, ClipFormat.WEBM, "vp9", 0, 60),
        (made.HEVC_HDR_MOV, ClipFormat.QUICKTIME, "hevc", 90, 60),
    ],
    ids=["mov", "webm", "hevc"],
)
def test_real_clips_are_probed(
    clips: ClipFactory,
    tools: VideoTools,
    tmp_path: Path,
    spec: made.ClipSpec,
    clip_format: ClipFormat,
    codec: str,
    rotation: int,
    frames: int,
) -> None:
    path = tmp_path / "clip"
    path.write_bytes(clips.make(spec))
    probe = probe_clip(tools, path, clip_format, TOOL_LIMITS)
    assert probe.video is not None
    assert probe.video.codec == codec
    assert probe.video.rotation == rotation
    assert probe.frames == frames
    assert probe.duration == pytest.approx(2.0, abs=0.05)
    assert not probe.cut_short


def test_hdr_is_recognised_in_an_iphone_clip(
    clips: ClipFactory, tools: VideoTools, tmp_path: Path
) -> None:
    path = tmp_path / "clip"
    path.write_bytes(clips.make(made.HEVC_HDR_MOV))
    video = probe_clip(tools, path, ClipFormat.QUICKTIME, TOOL_LIMITS).video
    assert video is not None and video.hdr and video.transfer == "arib-std-b67"


@pytest.mark.parametrize(
    ("tags", "recorded"),
    [
        # An iPhone's own date keeps the phone's offset.
        (
            {"com.apple.quicktime.creationdate": "2024-05-03T12:30:00+0200"},
            datetime(2024, 5, 3, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        # The header's creation time is UTC: read at this server's offset.
        (
            {"creation_time": "2024-05-03T10:30:00.000000Z"},
            datetime(2024, 5, 3, 10, 30, tzinfo=UTC).astimezone(),
        ),
        # Both: the iPhone's, for its offset.
        (
            {
                "creation_time": "2024-05-03T10:30:00.000000Z",
                "com.apple.quicktime.creationdate": "2024-05-03T12:30:00+0200",
            },
            datetime(2024, 5, 3, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        # A date that cannot be read, or has no offset, is passed over.
        (
            {"com.apple.quicktime.creationdate": "yesterday", "creation_time": "2024-05-03"},
            None,
        ),
        ({"creation_time": "2024-05-03 10:30:00"}, None),
        ({}, None),
    ],
)
def test_the_container_says_when_the_clip_was_recorded(
    tags: dict[str, str], recorded: datetime | None
) -> None:
    probe = parse_probe(report([VIDEO], packets(0, 30), duration="1.0", tags=tags))
    assert probe.recorded_at == recorded
    if recorded is not None:
        assert probe.recorded_at is not None
        assert probe.recorded_at.utcoffset() == recorded.utcoffset()
