"""WADO-RS over the built-in archive: objects (as stored or transcoded), metadata, frames, bulk
data, thumbnails."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from xml.etree import ElementTree

import numpy as np
import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from pydicom.encaps import generate_frames

from pointcare.db.models import Instance
from pointcare.dicom.json_model import xml_to_json
from pointcare.runtime import Runtime
from tests.integration.dicomweb.conftest import JPEG_BASELINE, Archive, multipart_parts

Client = TestClient[Litestar]
Indexed = Callable[[str], Instance]
DICOM_PARTS = 'multipart/related; type="application/dicom"'
OCTET = "application/octet-stream"


def stored_bytes(runtime: Runtime, indexed: Indexed, sop_uid: str) -> bytes:
    return runtime.files.read(indexed(sop_uid).storage_path)


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        assert image.format == "JPEG"
        return image.size


# --- Objects -----------------------------------------------------------------------------------

UNCOMPRESSED = "1.2.840.10008.1.2.1"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"


def decoded_pixels(jpeg_object: bytes) -> np.ndarray:
    """The pixels of a stored photo, decoded by Pillow independently of the server."""
    stored = pydicom.dcmread(BytesIO(jpeg_object))
    frame = next(generate_frames(stored.PixelData, number_of_frames=1))
    with Image.open(BytesIO(frame)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    "accept",
    [
        DICOM_PARTS + "; transfer-syntax=*",
        f"{DICOM_PARTS}; transfer-syntax={JPEG_BASELINE}",
        # The preferred range cannot be made (JPEG Lossless); the second one can.
        f"{DICOM_PARTS}; transfer-syntax={JPEG_LOSSLESS}; q=0.9, "
        f"{DICOM_PARTS}; transfer-syntax=*; q=0.5",
    ],
)
def test_an_instance_is_served_byte_for_byte_as_archived_when_asked_for(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    runtime: Runtime,
    indexed: Indexed,
    accept: str,
) -> None:
    response = client.get(archive.first.path, headers={**reviewer, "Accept": accept})
    assert response.status_code == 200, response.text
    content_type = response.headers["content-type"]
    assert content_type.startswith(DICOM_PARTS + "; boundary=")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "no-store"
    [(part_type, payload)] = multipart_parts(content_type, response.content)
    assert part_type == f"application/dicom; transfer-syntax={JPEG_BASELINE}"
    assert payload == stored_bytes(runtime, indexed, archive.first.sop)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "multipart/related",
        DICOM_PARTS,
        f"{DICOM_PARTS}; transfer-syntax={UNCOMPRESSED}",
    ],
)
def test_explicit_vr_little_endian_is_the_default_and_on_request(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    runtime: Runtime,
    indexed: Indexed,
    accept: str | None,
) -> None:
    headers = reviewer if accept is None else {**reviewer, "Accept": accept}
    response = client.get(archive.first.path, headers=headers)
    assert response.status_code == 200, response.text
    [(part_type, payload)] = multipart_parts(response.headers["content-type"], response.content)
    assert part_type == f"application/dicom; transfer-syntax={UNCOMPRESSED}"
    sent = pydicom.dcmread(BytesIO(payload))
    stored = stored_bytes(runtime, indexed, archive.first.sop)
    assert sent.file_meta.TransferSyntaxUID == UNCOMPRESSED
    assert sent.SOPInstanceUID == archive.first.sop
    assert sent.PhotometricInterpretation == "RGB"
    assert np.array_equal(sent.pixel_array, decoded_pixels(stored))


def test_a_single_instance_may_be_asked_for_as_bare_application_dicom(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, indexed: Indexed
) -> None:
    as_stored = client.get(
        archive.first.path, headers={**reviewer, "Accept": "application/dicom; transfer-syntax=*"}
    )
    assert as_stored.status_code == 200
    assert (
        as_stored.headers["content-type"] == f"application/dicom; transfer-syntax={JPEG_BASELINE}"
    )
    assert as_stored.content == stored_bytes(runtime, indexed, archive.first.sop)
    default = client.get(archive.first.path, headers={**reviewer, "Accept": "application/dicom"})
    assert default.headers["content-type"] == f"application/dicom; transfer-syntax={UNCOMPRESSED}"
    assert pydicom.dcmread(BytesIO(default.content)).file_meta.TransferSyntaxUID == UNCOMPRESSED
    study = client.get(
        f"/dicomweb/studies/{archive.first.study}",
        headers={**reviewer, "Accept": "application/dicom"},
    )
    assert study.status_code == 406, "a study is never a single part (PS3.18 10.4.4)"


def test_a_study_and_a_series_are_served_in_instance_order(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, indexed: Indexed
) -> None:
    expected = [stored_bytes(runtime, indexed, p.sop) for p in (archive.first, archive.second)]
    for path in (
        f"/dicomweb/studies/{archive.first.study}",
        f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}",
    ):
        response = client.get(
            path, headers={**reviewer, "Accept": DICOM_PARTS + "; transfer-syntax=*"}
        )
        assert response.status_code == 200
        parts = multipart_parts(response.headers["content-type"], response.content)
        assert [payload for _type, payload in parts] == expected
        transcoded = client.get(path, headers=reviewer)
        parts = multipart_parts(transcoded.headers["content-type"], transcoded.content)
        assert [pydicom.dcmread(BytesIO(p)).SOPInstanceUID for _t, p in parts] == [
            archive.first.sop,
            archive.second.sop,
        ]
        assert {part_type for part_type, _p in parts} == {
            f"application/dicom; transfer-syntax={UNCOMPRESSED}"
        }


@pytest.mark.parametrize(
    "accept",
    [
        f"{DICOM_PARTS}; transfer-syntax={JPEG_LOSSLESS}",
        'multipart/related; type="application/octet-stream"',
        "application/dicom+json",
    ],
)
def test_what_cannot_be_made_is_not_acceptable(
    client: Client, reviewer: dict[str, str], archive: Archive, accept: str
) -> None:
    response = client.get(archive.first.path, headers={**reviewer, "Accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "transfer-syntax=*" in detail
    assert JPEG_BASELINE in detail
    assert UNCOMPRESSED in detail


# --- Metadata ----------------------------------------------------------------------------------


def test_instance_metadata_is_the_stored_header_with_a_link_to_the_pixels(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, indexed: Indexed
) -> None:
    response = client.get(archive.first.path + "/metadata", headers=reviewer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/dicom+json")
    [metadata] = response.json()
    stored = pydicom.dcmread(BytesIO(stored_bytes(runtime, indexed, archive.first.sop)))
    as_read = pydicom.Dataset.from_json(
        {tag: item for tag, item in metadata.items() if tag != "7FE00010"}
    )
    for keyword in (
        "SOPInstanceUID",
        "PatientName",
        "PatientID",
        "StudyDate",
        "Rows",
        "Columns",
        "ImageLaterality",
        "PhotometricInterpretation",
        "RecognizableVisualFeatures",
    ):
        assert as_read[keyword].value == stored[keyword].value, keyword
    assert as_read.AnatomicRegionSequence[0].CodeValue == stored.AnatomicRegionSequence[0].CodeValue
    assert metadata["7FE00010"] == {
        "vr": "OB",
        "BulkDataURI": f"http://testserver.local{archive.first.path}/bulkdata/7FE00010",
    }
    assert metadata["00083002"]["Value"] == [JPEG_BASELINE]


def test_study_and_series_metadata_list_every_instance(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    for path in (
        f"/dicomweb/studies/{archive.first.study}/metadata",
        f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}/metadata",
    ):
        response = client.get(path, headers=reviewer)
        assert response.status_code == 200
        sops = [item["00080018"]["Value"][0] for item in response.json()]
        assert sops == [archive.first.sop, archive.second.sop]


def test_metadata_in_the_xml_model(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get(
        f"/dicomweb/studies/{archive.first.study}/metadata",
        headers={**reviewer, "Accept": 'multipart/related; type="application/dicom+xml"'},
    )
    assert response.status_code == 200
    parts = multipart_parts(response.headers["content-type"], response.content)
    assert [part_type for part_type, _ in parts] == ["application/dicom+xml"] * 2
    first = xml_to_json(parts[0][1])
    assert first["00080018"]["Value"] == [archive.first.sop]
    root = ElementTree.fromstring(parts[0][1])  # noqa: S314 - our own answer
    link = root.find(".//{*}DicomAttribute[@tag='7FE00010']/{*}BulkData")
    assert link is not None
    assert link.get("uri", "").endswith(archive.first.path + "/bulkdata/7FE00010")


# --- Frames and bulk data ----------------------------------------------------------------------


def test_the_frame_as_stored_is_the_encapsulated_jpeg(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, indexed: Indexed
) -> None:
    stored = pydicom.dcmread(BytesIO(stored_bytes(runtime, indexed, archive.first.sop)))
    encapsulated = next(generate_frames(stored.PixelData, number_of_frames=1))
    for accept, part_type in (
        ('multipart/related; type="image/jpeg"', "image/jpeg"),
        ('multipart/related; type="application/octet-stream"; transfer-syntax=*', OCTET),
    ):
        response = client.get(
            archive.first.path + "/frames/1", headers={**reviewer, "Accept": accept}
        )
        assert response.status_code == 200, accept
        [(sent_type, frame)] = multipart_parts(response.headers["content-type"], response.content)
        assert sent_type == f"{part_type}; transfer-syntax={JPEG_BASELINE}"
        assert encapsulated.startswith(frame)
        assert frame.endswith(b"\xff\xd9")
        row = indexed(archive.first.sop)
        assert jpeg_size(frame) == (row.columns, row.rows)
    single = client.get(
        archive.first.path + "/frames/1", headers={**reviewer, "Accept": "image/jpeg"}
    )
    assert single.headers["content-type"] == f"image/jpeg; transfer-syntax={JPEG_BASELINE}"
    assert encapsulated.startswith(single.content)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        f'multipart/related; type="{OCTET}"',
        f'multipart/related; type="{OCTET}"; transfer-syntax={UNCOMPRESSED}',
    ],
)
def test_frames_are_uncompressed_octet_streams_by_default(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    runtime: Runtime,
    indexed: Indexed,
    accept: str | None,
) -> None:
    headers = reviewer if accept is None else {**reviewer, "Accept": accept}
    response = client.get(archive.second.path + "/frames/1", headers=headers)
    assert response.status_code == 200, response.text
    [(part_type, frame)] = multipart_parts(response.headers["content-type"], response.content)
    assert part_type == f"{OCTET}; transfer-syntax={UNCOMPRESSED}"
    pixels = decoded_pixels(stored_bytes(runtime, indexed, archive.second.sop))
    assert frame == pixels.tobytes()
    row = indexed(archive.second.sop)
    assert len(frame) == row.rows * row.columns * 3


def test_pixel_data_bulk_data_is_every_frame(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    bulk = client.get(archive.first.path + "/bulkdata/7FE00010", headers=reviewer)
    frames = client.get(archive.first.path + "/frames/1", headers=reviewer)
    assert bulk.status_code == 200
    assert multipart_parts(bulk.headers["content-type"], bulk.content) == multipart_parts(
        frames.headers["content-type"], frames.content
    )
    for tag in ("00420011", "00100010"):
        assert (
            client.get(f"{archive.first.path}/bulkdata/{tag}", headers=reviewer).status_code == 404
        )


@pytest.mark.parametrize(("frames", "status"), [("2", 404), ("1,2", 404), ("x", 400), ("0", 400)])
def test_frames_that_do_not_exist(
    client: Client, reviewer: dict[str, str], archive: Archive, frames: str, status: int
) -> None:
    response = client.get(f"{archive.first.path}/frames/{frames}", headers=reviewer)
    assert response.status_code == status


def test_frames_in_a_syntax_we_do_not_make_are_not_acceptable(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get(
        archive.first.path + "/frames/1",
        headers={**reviewer, "Accept": 'multipart/related; type="image/jp2"'},
    )
    assert response.status_code == 406
    assert "application/octet-stream" in response.json()["detail"]


# --- Thumbnails --------------------------------------------------------------------------------


def test_thumbnails_are_the_stored_ones(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, indexed: Indexed
) -> None:
    first_thumbnail = runtime.files.read(indexed(archive.first.sop).thumbnail_path)
    for path in (
        archive.first.path + "/thumbnail",
        f"/dicomweb/studies/{archive.first.study}/thumbnail",
        f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}/thumbnail",
    ):
        response = client.get(path, headers=reviewer)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content == first_thumbnail
        assert max(jpeg_size(response.content)) <= 320
    second = client.get(archive.second.path + "/thumbnail", headers=reviewer)
    assert second.content == runtime.files.read(indexed(archive.second.sop).thumbnail_path)
    small = client.get(
        archive.first.path + "/thumbnail", params={"viewport": "64,64"}, headers=reviewer
    )
    assert max(jpeg_size(small.content)) == 64
    roomy = client.get(
        archive.first.path + "/thumbnail", params={"viewport": "1000,1000"}, headers=reviewer
    )
    assert roomy.content == first_thumbnail, "never enlarged, and not re-encoded when it fits"


# --- Errors ------------------------------------------------------------------------------------

UNKNOWN = "1.2.826.0.1.3680043.8.498.1"


def test_unknown_uids_are_not_found(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    first = archive.first
    for path in (
        f"/dicomweb/studies/{UNKNOWN}",
        f"/dicomweb/studies/{UNKNOWN}/metadata",
        f"/dicomweb/studies/{first.study}/series/{UNKNOWN}",
        f"/dicomweb/studies/{first.study}/series/{first.series}/instances/{UNKNOWN}",
        f"/dicomweb/studies/{first.study}/series/{first.series}/instances/{UNKNOWN}/rendered",
        f"/dicomweb/studies/{UNKNOWN}/thumbnail",
        # A real instance under another patient's study is not there either.
        f"/dicomweb/studies/{archive.other_patient.study}/series/{first.series}/instances/{first.sop}",
    ):
        response = client.get(path, headers=reviewer)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "in this archive" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["abc", "1.02.3", "1..2", "1." + "2" * 70, "1.2.3;rm"])
def test_malformed_uids_are_bad_requests(
    client: Client, reviewer: dict[str, str], archive: Archive, bad: str
) -> None:
    for path in (
        f"/dicomweb/studies/{bad}",
        f"/dicomweb/studies/{bad}/series",
        f"/dicomweb/studies/{archive.first.study}/series/{bad}/metadata",
        f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}/instances/{bad}/thumbnail",
    ):
        response = client.get(path, headers=reviewer)
        assert response.status_code == 400, path
        assert "not a valid DICOM UID" in response.json()["detail"]


# --- Who may -----------------------------------------------------------------------------------


def test_a_photographer_may_neither_search_nor_retrieve(
    client: Client, bearer: Callable[[str], dict[str, str]], archive: Archive
) -> None:
    nurse = bearer("photographer")
    for path in ("/dicomweb/studies", archive.first.path, archive.first.path + "/rendered"):
        response = client.get(path, headers=nurse)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("application/problem+json")


def test_an_admin_may(
    client: Client, bearer: Callable[[str], dict[str, str]], archive: Archive
) -> None:
    assert client.get(archive.first.path, headers=bearer("admin")).status_code == 200


def test_anonymous_callers_are_asked_to_sign_in(client: Client, archive: Archive) -> None:
    for path in ("/dicomweb/studies", archive.first.path, archive.first.path + "/thumbnail"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
