"""POST /api/v1/videos with real clips: stored as Video Photographic objects that play, carry no
location, and pass dciodvfy; refusals are 4xx and leave nothing behind; a retry stores nothing new.
Then the clip plays back over WADO-RS, in byte ranges."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.db.models import Instance
from pointcare.dicom.video import VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE, stored_clip
from pointcare.runtime import Runtime
from tests.integration.api.test_photos import archive_state, stored_path
from tests.integration.conftest import PostClip
from tests.support import clips as made
from tests.support.clips import TRACES, ClipFactory, ClipSpec
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom


@pytest.mark.parametrize(
    ("spec", "kept"),
    [(made.PHONE_MOV, False), (made.UPRIGHT_MOV, True), (made.VP9_WEBM, False)],
    ids=lambda value: value.name if isinstance(value, ClipSpec) else None,
)
def test_a_clip_is_stored_as_a_video_object(
    post_clip: PostClip, runtime: Runtime, clips: ClipFactory, spec: ClipSpec, kept: bool
) -> None:
    response = post_clip(clips.make(spec))
    assert response.status_code == 201, response.text
    sop = response.json()["sop_instance_uid"]
    data = stored_path(runtime, sop).read_bytes()
    dataset = pydicom.dcmread(stored_path(runtime, sop))
    assert dataset.SOPClassUID == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
    assert dataset.PatientID == "PC100001"
    assert [trace for trace in TRACES if trace in data] == []
    assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)
    with runtime.db.session() as session:
        instance = session.scalar(select(Instance).where(Instance.sop_instance_uid == sop))
        assert instance is not None
        assert instance.sop_class_uid == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
        assert instance.transfer_syntax_uid == dataset.file_meta.TransferSyntaxUID
        assert instance.reencoded is not kept
        assert (instance.rows, instance.columns) == (dataset.Rows, dataset.Columns)
        assert runtime.files.read(instance.thumbnail_path)[:2] == b"\xff\xd8"


def test_a_retry_stores_nothing_new(
    post_clip: PostClip, runtime: Runtime, clips: ClipFactory
) -> None:
    capture_id = str(uuid.uuid4())
    first = post_clip(clips.make(made.VP9_WEBM), capture_id=capture_id)
    again = post_clip(clips.make(made.VP9_WEBM), capture_id=capture_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert archive_state(runtime)[0] == 1


@pytest.mark.parametrize(
    ("spec", "damage", "status", "words"),
    [
        (made.AUDIO_ONLY, None, 422, "sound but no picture"),
        (made.UPRIGHT_MP4, "truncate", 422, "damaged or incomplete"),
        (None, "pdf", 415, "not a video clip"),
    ],
    ids=["audio-only", "truncated", "not-a-clip"],
)
def test_bad_clips_are_refused_and_nothing_is_kept(
    post_clip: PostClip,
    runtime: Runtime,
    clips: ClipFactory,
    spec: ClipSpec | None,
    damage: str | None,
    status: int,
    words: str,
) -> None:
    data = clips.make(spec) if spec else b"%PDF-1.7\n" + bytes(2000)
    if damage == "truncate":
        data = data[: len(data) // 2]
    before = archive_state(runtime)
    response = post_clip(data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]
    assert archive_state(runtime) == before


def test_a_clip_over_the_duration_limit_is_413(post_clip: PostClip, clips: ClipFactory) -> None:
    long = clips.make(ClipSpec(name="long.mp4", seconds=64, size=(160, 90), rate=10))
    response = post_clip(long)
    assert response.status_code == 413, response.text
    assert "clips may last at most 60 seconds" in response.json()["detail"]


def test_the_clip_plays_back_in_byte_ranges(
    post_clip: PostClip,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    runtime: Runtime,
    clips: ClipFactory,
) -> None:
    body = post_clip(clips.make(made.PHONE_MOV)).json()
    mp4 = stored_clip(stored_path(runtime, body["sop_instance_uid"]))
    url = (
        f"/dicomweb/studies/{body['study_instance_uid']}/series/{body['series_instance_uid']}"
        f"/instances/{body['sop_instance_uid']}/rendered"
    )
    doctor = bearer("clinician")
    whole = client.get(url, headers=doctor)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == mp4
    first = client.get(url, headers=doctor | {"Range": "bytes=0-1023"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-1023/{len(mp4)}"
    assert first.content == mp4[:1024]
    tail = client.get(url, headers=doctor | {"Range": "bytes=-100"})
    assert tail.content == mp4[-100:]
    beyond = client.get(url, headers=doctor | {"Range": f"bytes={len(mp4)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(mp4)}"
    as_jpeg = client.get(url, headers=doctor | {"Accept": "image/jpeg"})
    assert as_jpeg.status_code == 406
    nurse = client.get(url, headers=bearer("photographer"))
    assert nurse.status_code == 403


@pytest.mark.parametrize(
    ("spec", "fields", "taken", "source"),
    [
        # The date the phone wrote in the clip comes before the file's date...
        (
            made.PHONE_MOV,
            {"captured_at_source": "file"},
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "photo",
        ),
        # ...but not before the moment the recording page or the user gave.
        (made.PHONE_MOV, {}, datetime(2026, 5, 4, 8, 15, tzinfo=UTC), "device"),
        # A clip that says nothing keeps the file's date.
        (
            made.UPRIGHT_MP4,
            {"captured_at_source": "file"},
            datetime(2026, 5, 4, 8, 15, tzinfo=UTC),
            "file",
        ),
    ],
    ids=["clip-date-before-file-date", "device-clock", "file-date"],
)
def test_a_clip_is_filed_at_the_moment_it_was_recorded(
    post_clip: PostClip,
    runtime: Runtime,
    clips: ClipFactory,
    spec: ClipSpec,
    fields: dict[str, str],
    taken: datetime,
    source: str,
) -> None:
    response = post_clip(clips.make(spec), **fields)  # captured_at 2026-05-04T10:15:00+02:00
    assert response.status_code == 201, response.text
    sop = response.json()["sop_instance_uid"]
    with runtime.db.session() as session:
        row = session.scalars(select(Instance).where(Instance.sop_instance_uid == sop)).one()
    assert (row.captured_at, row.captured_at_source) == (taken, source)
    dataset = pydicom.dcmread(stored_path(runtime, sop), stop_before_pixels=True)
    assert dataset.ContentDate == row.taken_at.strftime("%Y%m%d")
