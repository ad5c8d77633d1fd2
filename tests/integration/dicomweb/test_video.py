"""A video clip over DICOMweb: its frames are its MP4 (one part, however many frames are asked
for), its rendering is the MP4 whole or in byte ranges, a study's rendering leaves it out, and
what would need its pixels decoded (uncompressed frames, Explicit VR Little Endian) is 406."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.dicom.video import stored_clip
from pointcare.runtime import Runtime
from tests.integration.api.test_photos import stored_path
from tests.integration.dicomweb.conftest import StoredObject, multipart_parts

MP4_PARTS = 'multipart/related; type="video/mp4"'

Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def mp4(clip: StoredObject, runtime: Runtime) -> bytes:
    return stored_clip(stored_path(runtime, clip.sop))


@pytest.mark.parametrize("frames", ["1", "1,2"])
def test_the_frames_of_a_clip_are_its_mp4_in_one_part(
    client: Client, reviewer: dict[str, str], clip: StoredObject, mp4: bytes, frames: str
) -> None:
    answer = client.get(f"{clip.path}/frames/{frames}", headers=reviewer | {"Accept": MP4_PARTS})
    assert answer.status_code == 200, answer.text
    [(content_type, payload)] = multipart_parts(answer.headers["content-type"], answer.content)
    assert content_type.startswith("video/mp4; transfer-syntax=1.2.840.10008.1.2.4.10")
    assert payload == mp4


def test_one_frame_of_a_clip_as_bare_mp4_and_its_pixel_data_as_stored(
    client: Client, reviewer: dict[str, str], clip: StoredObject, mp4: bytes
) -> None:
    bare = client.get(f"{clip.path}/frames/1", headers=reviewer | {"Accept": "video/mp4"})
    assert bare.status_code == 200, bare.text
    assert bare.headers["content-type"].startswith("video/mp4; transfer-syntax=")
    assert bare.content == mp4
    as_stored = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
    bulk = client.get(f"{clip.path}/bulkdata/7FE00010", headers=reviewer | {"Accept": as_stored})
    assert bulk.status_code == 200, bulk.text
    [(_, payload)] = multipart_parts(bulk.headers["content-type"], bulk.content)
    assert payload == mp4


@pytest.mark.parametrize(
    ("suffix", "accept"),
    [
        ("/frames/1", None),  # uncompressed by default: a clip's pixels are not decoded here
        ("", None),  # Explicit VR Little Endian by default, likewise
        ("/frames/1/rendered", None),  # a clip is rendered whole
        ("/frames/99", MP4_PARTS),  # beyond its frames: 404
    ],
)
def test_what_a_clip_cannot_give_is_refused_before_any_byte(
    client: Client, reviewer: dict[str, str], clip: StoredObject, suffix: str, accept: str | None
) -> None:
    headers = reviewer | ({"Accept": accept} if accept else {})
    answer = client.get(clip.path + suffix, headers=headers)
    assert answer.status_code == (404 if suffix == "/frames/99" else 406), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_clip_is_retrieved_as_stored_and_left_out_of_its_study_rendering(
    client: Client, reviewer: dict[str, str], clip: StoredObject, runtime: Runtime, mp4: bytes
) -> None:
    as_stored = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    answer = client.get(clip.path, headers=reviewer | {"Accept": as_stored})
    assert answer.status_code == 200, answer.text
    [(_, payload)] = multipart_parts(answer.headers["content-type"], answer.content)
    assert payload == stored_path(runtime, clip.sop).read_bytes()
    study = client.get(f"/dicomweb/studies/{clip.study}/rendered", headers=reviewer)
    assert study.status_code == 404
    assert "video clips one by one" in study.json()["detail"]
    played = client.get(f"{clip.path}/rendered", headers=reviewer | {"Range": "bytes=0-99"})
    assert played.status_code == 206
    assert played.headers["content-range"] == f"bytes 0-99/{len(mp4)}"
    assert played.content == mp4[:100]
