"""What is stored as it is, what is transcoded, and to what size, rate and level."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from pointcare.video import conformance
from pointcare.video.probe import VideoStream

KEPT = VideoStream(
    codec="h264",
    profile="High",
    level=41,
    width=1920,
    height=1080,
    pixel_format="yuv420p",
    field_order="progressive",
    rotation=0,
    sample_aspect_ratio=Fraction(1),
    frame_rate=Fraction(30),
    transfer="bt709",
)


def test_a_conformant_h264_high_stream_is_kept() -> None:
    assert conformance.reasons_to_transcode(KEPT) == ()
    assert conformance.reasons_to_transcode(replace(KEPT, level=42, width=1080, height=1920)) == ()
    assert conformance.reasons_to_transcode(replace(KEPT, field_order="")) == ()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"codec": "vp9", "profile": "Profile 0", "level": None}, "VP9 video"),
        ({"codec": "hevc", "profile": "Main 10", "level": None}, "HEVC video"),
        ({"profile": "Main"}, "H.264 Main profile"),
        ({"profile": "Constrained Baseline"}, "H.264 Constrained Baseline profile"),
        ({"level": 51}, "H.264 level 5.1"),
        ({"level": None}, "H.264 level unknown"),
        ({"pixel_format": "yuvj420p"}, "pixel format yuvj420p"),
        ({"pixel_format": "yuv420p10le"}, "pixel format yuv420p10le"),
        ({"field_order": "tt"}, "interlaced"),
        ({"rotation": 90}, "rotated 90 degrees"),
        ({"sample_aspect_ratio": Fraction(4, 3)}, "non-square pixels"),
        ({"width": 3840, "height": 2160}, "3840 x 2160 is larger than 1920 x 1080"),
        ({"width": 1440, "height": 1440}, "1440 x 1440 is larger than 1920 x 1080"),
        ({"transfer": "arib-std-b67"}, "HDR"),
        ({"transfer": "smpte2084"}, "HDR"),
    ],
)
def test_anything_else_is_transcoded(change: dict[str, object], reason: str) -> None:
    assert reason in conformance.reasons_to_transcode(replace(KEPT, **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "size"),
    [
        ({}, (1920, 1080)),
        ({"width": 3840, "height": 2160}, (1920, 1080)),
        ({"width": 3840, "height": 2160, "rotation": 90}, (1080, 1920)),
        ({"width": 1280, "height": 720, "rotation": 270}, (720, 1280)),
        ({"width": 4096, "height": 2160}, (1920, 1012)),
        ({"width": 2000, "height": 2000}, (1080, 1080)),
        ({"width": 720, "height": 576, "sample_aspect_ratio": Fraction(16, 15)}, (768, 576)),
        ({"width": 641, "height": 359}, (640, 358)),
    ],
)
def test_the_target_is_upright_within_1920_by_1080_and_even(
    change: dict[str, object], size: tuple[int, int]
) -> None:
    assert conformance.target_size(replace(KEPT, **change)) == size  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("declared", "measured", "rate"),
    [
        (Fraction(30), None, Fraction(30)),
        (Fraction(30000, 1001), None, Fraction(30000, 1001)),
        (Fraction(120), None, Fraction(60)),
        (Fraction(240), None, Fraction(60)),
        (None, Fraction(288000, 9599), Fraction(30)),  # 30.003: milliseconds in WebM
        (None, Fraction(1500, 73), Fraction(21)),  # a browser's variable rate, averaged
        (Fraction(1000), Fraction(20), Fraction(20)),  # Matroska's time base, not a rate
        (None, None, Fraction(30)),
        (None, Fraction(1, 3), Fraction(1)),
    ],
)
def test_the_rate_is_constant_and_nominal(
    declared: Fraction | None, measured: Fraction | None, rate: Fraction
) -> None:
    assert conformance.target_rate(declared, measured) == rate


@pytest.mark.parametrize(
    ("size", "rate", "level"),
    [
        ((1920, 1080), Fraction(30), 41),
        ((1080, 1920), Fraction(30), 41),
        ((1280, 720), Fraction(60), 41),
        ((1920, 1080), Fraction(60), 42),
        ((1920, 1080), Fraction(60000, 1001), 42),
    ],
)
def test_the_level_is_the_lowest_that_holds_the_clip(
    size: tuple[int, int], rate: Fraction, level: int
) -> None:
    assert conformance.transcode_level(size, rate) == level


def test_no_level_holds_more_than_level_4_2() -> None:
    with pytest.raises(ValueError, match=r"exceeds level 4\.2"):
        conformance.transcode_level((1920, 1080), Fraction(120))
