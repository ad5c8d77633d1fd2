"""POST /api/v1/photos with real phone photos: what is stored, and what is refused."""

from __future__ import annotations

import base64
import io
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, ImageChops, ImageOps
from pydicom.encaps import generate_frames
from sqlalchemy import func, select

from pointcare.capture import pipeline as pipeline_module
from pointcare.db.models import ConsentRecord, Instance, Series, Study
from pointcare.imaging import jpeg_markers
from pointcare.imaging.exif import ORIENTATION_TAG
from pointcare.runtime import Runtime
from tests.integration.conftest import LimitedClient, Upload
from tests.support.consent import CLINICAL_ONLY
from tests.support.dicom_checks import (
    VIEW_WARNINGS,
    assert_valid_dicom,
    jpeg_has_metadata,
    jpeg_size,
)
from tests.support.tools import corpus, require_turbojpeg
from tests.unit.imaging.images import with_segment

GOOD_FOLDERS = ("gps", "orientation", "heic", "phone", "odd-exif")


def good_photos() -> list[Path]:
    return sorted(
        p for folder in GOOD_FOLDERS for p in corpus("photos", folder).iterdir() if p.is_file()
    )


def stored_path(runtime: Runtime, sop_uid: str) -> Path:
    with runtime.db.session() as session:
        relative = session.scalar(
            select(Instance.storage_path).where(Instance.sop_instance_uid == sop_uid)
        )
        assert relative is not None
        return runtime.files.resolve(relative)


def stored_dataset(runtime: Runtime, sop_uid: str) -> pydicom.Dataset:
    return pydicom.dcmread(stored_path(runtime, sop_uid))


def only_frame(dataset: pydicom.Dataset) -> bytes:
    frames = list(generate_frames(dataset.PixelData, number_of_frames=1))
    assert len(frames) == 1
    return frames[0]


def archive_state(runtime: Runtime) -> tuple[int, int, int, list[Path]]:
    with runtime.db.session() as session:
        instances = session.scalar(select(func.count()).select_from(Instance)) or 0
        studies = session.scalar(select(func.count()).select_from(Study)) or 0
        consents = session.scalar(select(func.count()).select_from(ConsentRecord)) or 0
    root = runtime.files.root
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return instances, studies, consents, files


@pytest.mark.parametrize("photo", good_photos(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_photo_is_stored_upright_and_clean(
    upload: Upload, runtime: Runtime, photo: Path
) -> None:
    response = upload(photo)
    assert response.status_code == 201, response.text
    body = response.json()
    dataset = stored_dataset(runtime, body["sop_instance_uid"])
    frame = only_frame(dataset)
    assert not jpeg_has_metadata(frame)
    for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap"):
        assert marker not in dataset.PixelData
    assert jpeg_size(frame) == (dataset.Columns, dataset.Rows)
    assert dataset.StudyInstanceUID == body["study_instance_uid"]
    assert dataset.SeriesInstanceUID == body["series_instance_uid"]
    assert "GPSLatitude" not in dataset and (0x0016, 0x0076) not in dataset


@pytest.mark.parametrize("folder", GOOD_FOLDERS)
def test_stored_objects_pass_dciodvfy(upload: Upload, runtime: Runtime, folder: str) -> None:
    photo = sorted(corpus("photos", folder).iterdir())[0]
    response = upload(
        photo, view="close-up", consent_teaching="true", description="Pressure ulcer, grade 2"
    )
    assert response.status_code == 201, response.text
    data = stored_path(runtime, response.json()["sop_instance_uid"]).read_bytes()
    assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)


def _upright_pixels(runtime: Runtime, upload: Upload, photo: Path) -> list[int]:
    dataset = stored_dataset(runtime, upload(photo).json()["sop_instance_uid"])
    image = Image.open(io.BytesIO(only_frame(dataset))).convert("L").resize((32, 24))
    return list(image.tobytes())


@pytest.mark.parametrize("shape", ["landscape", "portrait"])
def test_all_eight_orientations_come_out_the_same_picture(
    upload: Upload, runtime: Runtime, shape: str
) -> None:
    reference = _upright_pixels(runtime, upload, corpus("photos", "orientation", f"{shape}_1.jpg"))
    for n in range(2, 9):
        pixels = _upright_pixels(
            runtime, upload, corpus("photos", "orientation", f"{shape}_{n}.jpg")
        )
        difference = sum(abs(a - b) for a, b in zip(reference, pixels, strict=True)) / len(pixels)
        assert difference < 8, f"{shape}_{n}.jpg differs from {shape}_1.jpg by {difference:.1f}"


def _sideways(path: Path, orientation: int) -> bytes:
    """A real phone JPEG, its compressed data untouched, its EXIF now saying ``orientation``:
    what a phone held sideways sends."""
    with Image.open(path) as image:
        exif = image.getexif()
    exif[ORIENTATION_TAG] = orientation
    stripped = jpeg_markers.rewrite_without_metadata(jpeg_markers.parse(path.read_bytes()))
    return with_segment(stripped, 0xE1, exif.tobytes())


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_sideways_phone_jpeg_is_turned_without_a_second_compression(
    upload: Upload, runtime: Runtime, orientation: int
) -> None:
    require_turbojpeg()
    original = corpus("photos", "phone", "jolla.jpg")  # 3264 x 2448, 4:2:0: whole MCUs
    sideways = _sideways(original, orientation)
    response = upload(sideways, view="close-up")
    assert response.status_code == 201, response.text
    sop_uid = response.json()["sop_instance_uid"]
    with runtime.db.session() as session:
        instance = session.scalar(select(Instance).where(Instance.sop_instance_uid == sop_uid))
        assert instance is not None
        assert not instance.reencoded
    data = stored_path(runtime, sop_uid).read_bytes()
    assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)
    dataset = stored_dataset(runtime, sop_uid)
    quarter = orientation in (6, 8)
    assert (dataset.Columns, dataset.Rows) == ((2448, 3264) if quarter else (3264, 2448))
    frame = only_frame(dataset)
    assert not jpeg_has_metadata(frame)
    stored = Image.open(io.BytesIO(frame)).convert("RGB").reduce(8)
    with Image.open(io.BytesIO(sideways)) as image:
        expected = ImageOps.exif_transpose(image).convert("RGB").reduce(8)
    assert stored.size == expected.size
    extrema = ImageChops.difference(stored, expected).getextrema()
    assert max(high for _low, high in extrema) <= 3  # upsampling rounding, no re-quantising


@pytest.mark.parametrize(
    ("mrn", "dicom_name"), [("PC100001", "Öberg^Åsa"), ("PC100003", "O'Brien^Seán")]
)
def test_patient_names_round_trip(
    upload: Upload, runtime: Runtime, mrn: str, dicom_name: str
) -> None:
    response = upload(corpus("photos", "gps", "DSCN0010.jpg"), patient_id=mrn)
    assert response.status_code == 201, response.text
    sop_uid = response.json()["sop_instance_uid"]
    dataset = stored_dataset(runtime, sop_uid)
    assert str(dataset.PatientName) == dicom_name
    assert dataset.SpecificCharacterSet == "ISO_IR 192"
    assert dataset.PatientID == mrn
    assert dicom_name.encode("utf-8") in stored_path(runtime, sop_uid).read_bytes()


def test_dicom_content_follows_the_request(upload: Upload, runtime: Runtime) -> None:
    response = upload(
        corpus("photos", "gps", "DSCN0012.jpg"),
        body_site="14975008",
        laterality="R",
        view="close-up",
        consent_teaching="true",
        consent_publication="false",
        captured_at="2026-05-04T10:15:30+02:00",
    )
    dataset = stored_dataset(runtime, response.json()["sop_instance_uid"])
    assert dataset.Modality == "XC"
    assert dataset.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.4"
    assert dataset.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert dataset.ImageLaterality == "R"
    region = dataset.AnatomicRegionSequence[0]
    assert (region.CodeValue, region.CodingSchemeDesignator) == ("14975008", "SCT")
    assert dataset.ViewCodeSequence[0].CodeMeaning.lower().startswith("close")
    assert dataset.AcquisitionDateTime.startswith("20260504101530")
    assert dataset.TimezoneOffsetFromUTC == "+0200"
    consent = [
        (item.get("DistributionType"), item.ConsentForDistributionFlag)
        for item in dataset.ConsentForClinicalTrialUseSequence
    ]
    assert consent == [("RESTRICTED_REUSE", "YES")]  # declined scopes are simply not listed
    assert str(dataset.OperatorsName)
    assert dataset.AdmissionID  # demo patient PC100001 has a current visit


def test_a_retry_with_the_same_capture_id_stores_nothing_new(
    upload: Upload, runtime: Runtime
) -> None:
    capture_id = str(uuid.uuid4())
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    first = upload(photo, capture_id=capture_id)
    before = archive_state(runtime)
    second = upload(photo, capture_id=capture_id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert archive_state(runtime) == before


def test_a_capture_id_cannot_move_to_another_patient(upload: Upload) -> None:
    capture_id = str(uuid.uuid4())
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    assert upload(photo, capture_id=capture_id).status_code == 201
    conflict = upload(photo, capture_id=capture_id, patient_id="PC100002")
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")


def test_concurrent_uploads_for_one_patient_land_in_one_study(
    runtime: Runtime, accounts: dict[str, object], demo_patients: int
) -> None:
    from datetime import datetime

    from pointcare.auth.accounts import find_user, principal_of
    from pointcare.capture.command import Source
    from pointcare.capture.fields import CaptureFields, read_command
    from pointcare.domain.objects import ObjectKind

    with runtime.db.session() as session:
        user = find_user(session, "nurse")
        assert user is not None
        who = principal_of(user)
    photo = corpus("photos", "gps", "DSCN0021.jpg").read_bytes()
    session_id = str(uuid.uuid4())
    results: list[object] = []
    errors: list[BaseException] = []

    def send() -> None:
        command = read_command(
            CaptureFields(
                patient_id="PC100003",
                body_site="54735007",
                session_id=session_id,
                allow_duplicate="true",
                **CLINICAL_ONLY,
            ),
            kind=ObjectKind.PHOTO,
            source=Source.API,
            now=datetime.now().astimezone(),
        )
        try:
            results.append(runtime.capture.capture(who, command, photo))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.sop_instance_uid for r in results}) == 8  # type: ignore[attr-defined]
    assert len({r.study_instance_uid for r in results}) == 1  # type: ignore[attr-defined]
    with runtime.db.session() as session:
        numbers = session.scalars(select(Instance.instance_number)).all()
        series_count = session.scalar(select(func.count()).select_from(Series))
    assert sorted(numbers) == list(range(1, 9))
    assert series_count == 1


def test_a_failure_after_the_file_write_leaves_nothing(
    upload: Upload, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = archive_state(runtime)

    class Explodes(pipeline_module.Instance):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: object) -> None:
            assert runtime.files.root.exists() and any(runtime.files.root.rglob("*.dcm"))
            raise RuntimeError("injected failure after the file write")

    monkeypatch.setattr(pipeline_module, "Instance", Explodes)
    response = upload(corpus("photos", "gps", "DSCN0010.jpg"))
    assert response.status_code == 500
    assert "injected" not in response.text
    assert archive_state(runtime) == before


def test_a_failed_thumbnail_write_removes_the_object(
    upload: Upload, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = archive_state(runtime)
    real_write = runtime.files.write

    def write(relative_path: str, data: bytes) -> object:
        if relative_path.startswith("thumbnails/"):
            raise OSError("disk full")
        return real_write(relative_path, data)

    monkeypatch.setattr(runtime.files, "write", write)
    assert upload(corpus("photos", "gps", "DSCN0010.jpg")).status_code == 500
    assert archive_state(runtime) == before


@pytest.mark.parametrize(
    "photo", sorted(corpus("photos", "invalid").iterdir()), ids=lambda p: p.name
)
def test_broken_files_are_refused_and_nothing_is_stored(
    upload: Upload, runtime: Runtime, photo: Path
) -> None:
    before = archive_state(runtime)
    response = upload(photo)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    assert archive_state(runtime) == before


def _truncated_jpeg() -> bytes:
    data = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ({"patient_id": "NOSUCH"}, 422, "patient_id"),
        ({"patient_id": None}, 422, "patient_id"),
        ({"body_site": "1234"}, 422, "body_site"),
        ({"body_site": None}, 422, "body_site"),
        ({"laterality": "X"}, 422, "laterality"),
        ({"laterality": None}, 422, "laterality"),
        ({"captured_at": "04/05/2026"}, 422, "captured_at"),
        ({"captured_at": "2026-05-04T10:15:00"}, 422, "captured_at"),
        ({"capture_id": "12"}, 422, "capture_id"),
        ({"consent_teaching": "perhaps"}, 422, "consent_teaching"),
        ({"consent_clinical": "false", "consent_teaching": "false"}, 422, None),
        ({"consent_clinical": None}, 422, "consent_clinical"),
        ({"consent_teaching": None}, 422, "consent_teaching"),
        ({"consent_publication": None}, 422, "consent_publication"),
        ({"consent_method": None}, 422, "consent_method"),
        ({"captured_at_source": "guess"}, 422, "captured_at"),
        ({"allow_duplicate": "maybe"}, 422, "allow_duplicate"),
        ({"photo": b""}, 422, "file"),
        ({"photo": b"%PDF-1.4 not a photo"}, 415, "file"),
        ({"photo": b"GIF89a" + b"\x00" * 64}, 415, "file"),
        ({"photo": "truncated"}, 422, "file"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    upload: Upload, runtime: Runtime, case: dict[str, object], status: int, field: str | None
) -> None:
    fields = dict(case)
    photo = fields.pop("photo", corpus("photos", "gps", "DSCN0010.jpg"))
    if photo == "truncated":
        photo = _truncated_jpeg()
    before = archive_state(runtime)
    response = upload(photo, **fields)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    if field:
        assert field in problem.get("errors", {}), problem
    assert archive_state(runtime) == before


def test_missing_file_part(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    fields = {"patient_id": (None, "PC100001"), "body_site": (None, "54735007")}
    response = client.post("/api/v1/photos", files=fields, headers=bearer("photographer"))
    assert response.status_code == 422
    assert "file" in response.json()["errors"]


def test_a_form_that_is_not_multipart_is_refused(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    response = client.post(
        "/api/v1/photos", data={"patient_id": "PC100001"}, headers=bearer("photographer")
    )
    assert response.status_code == 400
    assert "multipart" in response.json()["detail"]


def test_upload_over_the_byte_limit_is_413(limited_client: LimitedClient) -> None:
    response = limited_client(
        corpus("photos", "phone", "nokia_8_3.jpg").read_bytes(), max_upload_bytes=200_000
    )
    assert response.status_code == 413


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_is_stored_whether_its_length_is_declared_or_not(
    limited_client: LimitedClient, chunked: bool
) -> None:
    response = limited_client(corpus("photos", "phone", "nokia_8_3.jpg").read_bytes(), chunked)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_never_touches_a_temporary_file(
    limited_client: LimitedClient, chunked: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A photo of 2.2 MB, past the 1 MB where Litestar would spool it to a temporary file, is
    # stored with no temporary directory at all (a hardened service's read-only /tmp).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-directory"))
    photo = corpus("photos", "phone", "nokia_8_3.jpg").read_bytes()
    assert len(photo) > 2 * 1024 * 1024
    response = limited_client(photo, chunked)
    assert response.status_code == 201, response.text


def test_a_chunked_body_past_the_limit_is_413(limited_client: LimitedClient) -> None:
    # No Content-Length to refuse it by: the body limit is found while it arrives.
    photo = corpus("photos", "phone", "nokia_8_3.jpg").read_bytes()
    response = limited_client(photo * 2, chunked=True, max_upload_bytes=200_000)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_image_over_the_pixel_limit_is_413(limited_client: LimitedClient) -> None:
    response = limited_client(
        corpus("photos", "gps", "DSCN0010.jpg").read_bytes(), max_image_pixels=100_000
    )
    assert response.status_code == 413
    assert (
        "pixel" in response.json()["detail"].lower() or "large" in response.json()["detail"].lower()
    )


@pytest.mark.parametrize(
    ("photo", "fields", "taken", "source"),
    [
        (("gps", "DSCN0010.jpg"), {"captured_at": None}, "2008-10-22 16:28:39", "photo"),
        (
            ("gps", "DSCN0010.jpg"),
            {"captured_at": "2026-05-04T10:15:00+02:00", "captured_at_source": "file"},
            "2008-10-22 16:28:39",
            "photo",
        ),
        (
            ("heic", "iphone_13_pro_max.heic"),
            {"captured_at": None},
            "2022-02-16 12:55:41+01:00",
            "photo",
        ),
        (
            ("gps", "DSCN0010.jpg"),
            {"captured_at": "2026-05-04T10:15:00+02:00"},
            "2026-05-04 10:15:00+02:00",
            "device",
        ),
        (
            ("orientation", "portrait_6.jpg"),
            {"captured_at": "2026-05-04T10:15:00+02:00", "captured_at_source": "file"},
            "2026-05-04 10:15:00+02:00",
            "file",
        ),
    ],
    ids=["exif", "exif-before-file-date", "heic-exif-offset", "device-clock", "file-date"],
)
def test_the_capture_date_is_the_moment_the_photo_was_taken(
    upload: Upload,
    runtime: Runtime,
    photo: tuple[str, str],
    fields: dict[str, str | None],
    taken: str,
    source: str,
) -> None:
    response = upload(corpus("photos", *photo), **fields)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    sop = response.json()["sop_instance_uid"]
    with runtime.db.session() as session:
        row = session.scalars(select(Instance).where(Instance.sop_instance_uid == sop)).one()
    assert row.captured_at_source == source
    local = row.taken_at
    assert str(local).startswith(taken), local
    # The object says the same moment, everywhere it says it.
    ds = stored_dataset(runtime, sop)
    assert ds.ContentDate == ds.AcquisitionDate == local.strftime("%Y%m%d")
    assert ds.ContentTime == ds.AcquisitionTime == local.strftime("%H%M%S")
    assert ds.AcquisitionDateTime.startswith(local.strftime("%Y%m%d%H%M%S"))
    offset = row.captured_tz_offset_minutes
    assert (
        ds.TimezoneOffsetFromUTC
        == f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    )


def _inspect(
    client: TestClient[Litestar], headers: dict[str, str], data: bytes, **fields: str
) -> Any:
    form = {"patient_id": "PC100001", "issuer": "PCDEMO", **fields}
    return client.post(
        "/api/v1/photos/inspect",
        data=form,
        files={"file": ("f", data, "application/octet-stream")},
        headers=headers,
    )


def test_a_file_is_looked_at_before_it_is_sent(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    upload: Upload,
    runtime: Runtime,
) -> None:
    headers = bearer("photographer")
    photo = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    before = archive_state(runtime)
    looked = _inspect(client, headers, photo)
    assert looked.status_code == 200, looked.text
    assert looked.headers["cache-control"] == "no-store"
    body = looked.json()
    assert body["is_image"] and body["already_stored"] is None
    assert body["taken_at"].startswith("2008-10-22T16:28:39")
    preview = Image.open(io.BytesIO(base64.b64decode(body["preview"].split(",", 1)[1])))
    assert preview.format == "JPEG" and max(preview.size) <= 320
    assert archive_state(runtime) == before  # nothing stored, nothing kept

    stored = upload(photo).json()
    again = _inspect(client, headers, photo).json()
    assert again["already_stored"]["sop_instance_uid"] == stored["sop_instance_uid"]

    heic = _inspect(
        client, headers, corpus("photos", "heic", "iphone_13_pro_max.heic").read_bytes()
    )
    assert heic.json()["preview"].startswith("data:image/jpeg;base64,")
    no_date = _inspect(
        client, headers, corpus("photos", "orientation", "portrait_6.jpg").read_bytes()
    )
    assert no_date.json()["taken_at"] is None


@pytest.mark.parametrize(
    ("data", "fields", "status", "field"),
    [
        (b"", {}, 422, "file"),
        ("truncated", {}, 422, "file"),
        (b"GIF89a" + b"\x00" * 64, {}, 200, None),
        (b"%PDF-1.4 any", {"patient_id": "NOSUCH"}, 422, "patient_id"),
    ],
    ids=["empty", "broken-jpeg", "not-an-image", "unknown-patient"],
)
def test_looking_at_a_bad_file_is_a_clear_answer(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    data: bytes | str,
    fields: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    content = _truncated_jpeg() if data == "truncated" else data
    assert isinstance(content, bytes)
    looked = _inspect(client, bearer("photographer"), content, **fields)
    assert looked.status_code == status, looked.text
    if field:
        assert field in looked.json()["errors"]
    else:
        assert looked.json()["is_image"] is False
