"""Video Photographic Image objects: real clips, wrapped or transcoded, round-trip through Part 10
and pass dciodvfy; the MP4 in Pixel Data is the clip, whole, and plays."""

from __future__ import annotations

import io
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.encaps import generate_fragments

from pointcare.dicom.modules import Equipment, SeriesContext, to_part10
from pointcare.dicom.part10 import encode_part10
from pointcare.dicom.uids import new_uid
from pointcare.dicom.video import (
    MPEG4_HIGH_PROFILE_LEVEL_4_1,
    MPEG4_HIGH_PROFILE_LEVEL_4_2_2D,
    VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE,
    build_video_photographic_image,
    stored_clip,
    stored_clip_span,
    transfer_syntax_for,
)
from pointcare.domain.views import View
from pointcare.imaging.photo import normalise_photo
from pointcare.video.clip import ClipNormaliser, NormalisedClip
from tests.support import clips as made
from tests.support.clips import TRACES, ClipFactory, ClipSpec, run_on
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom, pydicom_part10
from tests.unit.dicom.test_photo import build as build_photo
from tests.unit.dicom.test_photo import details, patient, study
from tests.unit.imaging.images import jpeg_bytes, scene


def build(clip: NormalisedClip, **overrides: Any) -> pydicom.Dataset:
    arguments: dict[str, Any] = {
        "clip": clip,
        "patient": patient(),
        "study": study(),
        "series": SeriesContext(series_instance_uid=new_uid(), series_number=2),
        "details": details(description="Gait, walking towards the camera"),
        "equipment": Equipment(
            software_versions="pointcare 0.1.0", institution_name="St Elsewhere"
        ),
    }
    return build_video_photographic_image(**(arguments | overrides))


def encapsulated(ds: pydicom.Dataset) -> bytes:
    """The one fragment after the empty Basic Offset Table, without its padding byte."""
    fragments = list(generate_fragments(ds.PixelData))
    assert len(fragments) == 2 and fragments[0] == b""
    mp4: bytes = fragments[1]
    return mp4


def decoded_frames(mp4: bytes) -> int:
    """Frames ffmpeg decodes from the extracted clip, every one of them."""
    return int(
        run_on(
            mp4,
            "ffprobe",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            "{}",
        )
    )


@pytest.mark.parametrize(
    ("spec", "syntax"),
    [
        (made.PHONE_MOV, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (made.UPRIGHT_MOV, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (made.VP9_WEBM, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (made.HEVC_HDR_MOV, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (made.HD60_MP4, MPEG4_HIGH_PROFILE_LEVEL_4_2_2D),
    ],
    ids=lambda value: value.name if isinstance(value, ClipSpec) else None,
)
def test_clips_round_trip_and_pass_dciodvfy(
    clips: ClipFactory, clip_normaliser: ClipNormaliser, spec: ClipSpec, syntax: str
) -> None:
    clip = clip_normaliser.normalise(clips.make(spec))
    data = to_part10(build(clip))
    ds = pydicom.dcmread(io.BytesIO(data))

    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.SOPClassUID == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
    assert ds.Modality == "XC"
    assert (ds.Rows, ds.Columns) == (clip.rows, clip.columns)
    assert ds.NumberOfFrames == clip.frames == decoded_frames(encapsulated(ds))
    assert ds.FrameIncrementPointer == pydicom.tag.Tag("FrameTime")
    assert float(ds.FrameTime) == pytest.approx(1000 / float(clip.frame_rate), rel=1e-5)
    assert ds.PhotometricInterpretation == "YBR_PARTIAL_420"
    assert (ds.SamplesPerPixel, ds.PlanarConfiguration, ds.BitsAllocated) == (3, 0, 8)
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_14496_10"
    assert ds.ImageLaterality == "L"
    assert encapsulated(ds)[: len(clip.mp4)] == clip.mp4
    assert ("DerivationDescription" in ds) is clip.transcoded
    assert [trace for trace in TRACES if trace in data] == []
    assert_valid_dicom(data)


def test_our_encoder_writes_what_pydicom_writes(
    clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    ds = build(clip_normaliser.normalise(clips.make(made.UPRIGHT_MP4)))
    assert b"".join(encode_part10(ds)) == pydicom_part10(ds)


def test_the_view_travels_as_for_photos(
    clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    clip = clip_normaliser.normalise(clips.make(made.UPRIGHT_MP4))
    data = to_part10(build(clip, details=details(view=View.parse("close-up"))))
    assert pydicom.dcmread(io.BytesIO(data)).ViewCodeSequence[0].CodeMeaning
    assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)


@pytest.mark.parametrize(
    ("level", "syntax"),
    [
        (30, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (41, MPEG4_HIGH_PROFILE_LEVEL_4_1),
        (42, MPEG4_HIGH_PROFILE_LEVEL_4_2_2D),
    ],
)
def test_the_transfer_syntax_follows_the_level(level: int, syntax: str) -> None:
    assert transfer_syntax_for(level) == syntax


@pytest.mark.parametrize("level", [0, 50, 51])
def test_levels_beyond_4_2_have_no_transfer_syntax(level: int) -> None:
    with pytest.raises(ValueError, match="has no MPEG-4 AVC"):
        transfer_syntax_for(level)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"rows": 721}, "not an even 4:2:0 frame"),
        ({"rows": 2160, "columns": 3840}, "exceed level 4.2"),
        ({"frames": 0}, "NumberOfFrames"),
        ({"frame_rate": Fraction(0)}, "frame rate"),
        ({"mp4": b"\x1a\x45\xdf\xa3" + bytes(100)}, "not an MP4"),
        ({"level": 51}, "transfer syntax"),
    ],
)
def test_what_the_object_would_misstate_is_refused(
    clips: ClipFactory, clip_normaliser: ClipNormaliser, change: dict[str, Any], words: str
) -> None:
    clip = clip_normaliser.normalise(clips.make(made.UPRIGHT_MP4))
    with pytest.raises(ValueError, match=words):
        build(replace(clip, **change))


@pytest.mark.parametrize("spec", [made.UPRIGHT_MP4, made.VP9_WEBM], ids=lambda spec: spec.name)
def test_the_clip_is_found_in_the_stored_file_without_reading_it(
    clips: ClipFactory, clip_normaliser: ClipNormaliser, spec: ClipSpec, tmp_path: Path
) -> None:
    clip = clip_normaliser.normalise(clips.make(spec))
    data = to_part10(build(clip))
    path = tmp_path / "object.dcm"
    path.write_bytes(data)
    for source in (data, path):
        span = stored_clip_span(source)
        assert span.length == len(clip.mp4)
        assert data[span.offset : span.offset + span.length] == clip.mp4
        assert stored_clip(source) == clip.mp4


def test_an_odd_length_clip_loses_its_padding_byte(
    clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    clip = clip_normaliser.normalise(clips.make(made.UPRIGHT_MP4))
    # One more top-level box, of 8 or 9 bytes: the clip's length becomes odd.
    box = b"\x00\x00\x00\x08free" if len(clip.mp4) % 2 else b"\x00\x00\x00\x09free\x00"
    odd = clip.mp4 + box
    assert len(odd) % 2 == 1
    data = to_part10(build(replace(clip, mp4=odd)))
    assert stored_clip(data) == odd


def test_a_photo_is_no_clip() -> None:
    photo = normalise_photo(jpeg_bytes(scene()), max_pixels=10**6)
    with pytest.raises(ValueError, match="not a video syntax"):
        stored_clip_span(to_part10(build_photo(photo)))
