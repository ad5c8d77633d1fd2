"""STOW-RS into Pointcare (IHE WIC Image Manager): what other capture devices send is checked,
matched to the directory's patient, stored through the one pipeline (byte for byte, under its
own UIDs), and answered object by object (PS3.18 10.5.3)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pydicom
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare.db.models import AuditRecord, Instance
from pointcare.dicom import store_status as status
from pointcare.dicom.json_model import dataset_to_dicom_json
from pointcare.dicom.modules import StudyContext, set_patient_module
from pointcare.dicom.uids import new_uid
from pointcare.domain.body_sites import body_site
from pointcare.imaging.photo import normalise_photo
from pointcare.runtime import Runtime
from tests.integration.dicomweb.conftest import multipart_parts
from tests.support.consent import CLINICAL_ONLY
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import PATIENT, a_pdf
from tests.unit.dicom.test_pdf import _dataset as pdf_dataset
from tests.unit.dicom.test_photo import build, details
from tests.unit.imaging.images import jpeg_bytes, scene

Client = TestClient[Litestar]
BOUNDARY = "stow-b0undary"
STORE = "/dicomweb/studies"
AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'
DICOM_JSON = "application/dicom+json"
FAILED, REFERENCED, FAILURE_REASON, ERROR_COMMENT = "00081198", "00081199", "00081197", "00000902"


def device_photo(**changes: Any) -> bytes:
    """A VL Photographic Image as another capture app sends it, for Öberg (PC100001)."""
    photo = normalise_photo(jpeg_bytes(scene((161, 121))), max_pixels=10**7)
    study = StudyContext(
        study_instance_uid=changes.pop("study_uid", None) or new_uid(),
        study_datetime=datetime(2024, 11, 5, 13, 0, tzinfo=UTC),
        study_id="APP1",
        accession_number="",
        admission_id=None,
    )
    dataset = build(photo, patient=replace(PATIENT, **changes), study=study, details=details())
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def device_pdf(**changes: Any) -> bytes:
    """An Encapsulated PDF as another system sends it, for Öberg unless ``changes`` say."""
    dataset = pdf_dataset(a_pdf(f"Wound chart {new_uid()}"))
    set_patient_module(dataset, replace(PATIENT, **changes))
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def stow(
    client: Client,
    headers: dict[str, str],
    *parts: bytes,
    path: str = STORE,
    consent: dict[str, str] | None = None,
    accept: str = "application/dicom+json",
) -> tuple[int, dict[str, Any]]:
    body = (
        b"".join(
            f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part + b"\r\n"
            for part in parts
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )
    response = client.post(
        path,
        content=body,
        params=consent if consent is not None else CLINICAL_ONLY,
        headers={
            **headers,
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}',
            "Accept": accept,
        },
    )
    if accept != "application/dicom+json":
        return response.status_code, {"body": response.content}
    assert response.headers["content-type"].startswith("application/dicom+json"), response.text
    answer: dict[str, Any] = response.json()
    return response.status_code, answer


def count(runtime: Runtime, kind: str | None = None) -> int:
    with runtime.db.session() as session:
        query = select(func.count(Instance.id))
        if kind is not None:
            query = query.where(Instance.kind == kind)
        return session.scalar(query) or 0


def uid_of(part10: bytes, keyword: str = "SOPInstanceUID") -> str:
    return str(pydicom.dcmread(io.BytesIO(part10), stop_before_pixels=True)[keyword].value)


def failures(answer: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        item["00081155"]["Value"][0] if "Value" in item.get("00081155", {}) else "": (
            item[FAILURE_REASON]["Value"][0],
            item[ERROR_COMMENT]["Value"][0],
        )
        for item in answer.get(FAILED, {}).get("Value", [])
    }


def test_a_photo_and_a_document_are_stored_as_they_came(
    client: Client,
    bearer: Callable[[str], dict[str, str]],
    reviewer: dict[str, str],
    runtime: Runtime,
    demo_patients: int,
) -> None:
    photo, document = device_photo(), device_pdf()
    before = count(runtime)
    code, answer = stow(client, bearer("photographer"), photo, document)
    assert code == 200, answer
    referenced = {item["00081155"]["Value"][0]: item for item in answer[REFERENCED]["Value"]}
    assert set(referenced) == {uid_of(photo), uid_of(document)}
    study, series = uid_of(photo, "StudyInstanceUID"), uid_of(photo, "SeriesInstanceUID")
    sop = uid_of(photo)
    path = f"/dicomweb/studies/{study}/series/{series}/instances/{sop}"
    assert referenced[sop]["00081190"]["Value"] == [f"http://testserver.local{path}"]
    kept = client.get(path, headers={**reviewer, "Accept": AS_STORED})
    [(_type, stored)] = multipart_parts(kept.headers["content-type"], kept.content)
    assert stored == photo, "byte for byte, under its own UIDs"
    with runtime.db.session() as session:
        row = session.scalars(select(Instance).where(Instance.sop_instance_uid == sop)).one()
        assert (row.kind, row.body_site_code, row.laterality) == ("photo", "14975008", "L")
        assert row.patient.mrn == "PC100001"
        assert row.consent is not None and row.consent.clinical_record
        stored_events = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "photo.stored")
        ).all()
    assert any(sop in event.objects for event in stored_events), "audited as every photo"
    assert client.get(path + "/thumbnail", headers=reviewer).status_code == 200
    found = client.get("/dicomweb/instances", params={"SOPInstanceUID": sop}, headers=reviewer)
    assert found.json()[0]["00280010"]["Value"] == [121]
    # Searched on the path it was stored on (a GET beside the POST of /studies).
    studies = client.get("/dicomweb/studies", params={"PatientID": "PC100001"}, headers=reviewer)
    assert study in [item["0020000D"]["Value"][0] for item in studies.json()]
    # The same objects again (a retry): the same answer, nothing stored twice.
    again_code, again = stow(client, bearer("photographer"), photo, document)
    assert again_code == 200 and len(again[REFERENCED]["Value"]) == 2
    assert count(runtime) == before + 2


def test_what_cannot_be_stored_is_named_with_its_reason(
    client: Client, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    good = device_photo()
    unknown = device_photo(mrn="PC999999")
    wrong_name = device_photo(family_name="Andersson")
    code, answer = stow(client, bearer("clinician"), good, unknown, wrong_name, b"not dicom")
    assert code == 202
    found = failures(answer)
    assert found[uid_of(unknown)][0] == status.UNKNOWN_PATIENT
    assert "PC999999" in found[uid_of(unknown)][1]
    assert found[uid_of(wrong_name)][0] == status.PATIENT_MISMATCH
    assert found[""][0] == status.CANNOT_UNDERSTAND
    assert [item["00081155"]["Value"][0] for item in answer[REFERENCED]["Value"]] == [uid_of(good)]


def test_nothing_stored_is_409_and_a_photo_needs_consent(
    client: Client, bearer: Callable[[str], dict[str, str]], runtime: Runtime, demo_patients: int
) -> None:
    photo = device_photo()
    photos = count(runtime, "photo")
    code, answer = stow(client, bearer("clinician"), photo, consent={})
    assert code == 409
    [(reason_code, reason)] = failures(answer).values()
    assert reason_code == status.NO_CONSENT and "consent_clinical" in reason
    declined = {**CLINICAL_ONLY, "consent_clinical": "no"}
    code, answer = stow(client, bearer("clinician"), photo, consent=declined)
    assert code == 409 and "declined" in next(iter(failures(answer).values()))[1]
    code, answer = stow(client, bearer("clinician"), device_pdf(), consent={})
    assert code == 200, "documents need no consent"
    assert count(runtime, "photo") == photos


def test_the_targeted_study_and_the_site_are_checked(
    client: Client, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    photo = device_photo()
    code, answer = stow(
        client, bearer("clinician"), photo, path=f"{STORE}/1.2.826.0.1.3680043.8.498.77"
    )
    assert code == 409
    assert "not the study this request stores into" in next(iter(failures(answer).values()))[1]
    unknown_site = build(
        normalise_photo(jpeg_bytes(scene((161, 121))), max_pixels=10**7),
        patient=PATIENT,
        details=replace(details(), body_site=body_site("14975008")),
    )
    unknown_site.AnatomicRegionSequence[0].CodeValue = "999999"
    buffer = io.BytesIO()
    unknown_site.save_as(buffer, enforce_file_format=True)
    code, answer = stow(client, bearer("clinician"), buffer.getvalue())
    assert code == 409
    assert "body site of the catalogue" in next(iter(failures(answer).values()))[1]


def test_json_metadata_and_jpeg_bulk_data(
    client: Client,
    bearer: Callable[[str], dict[str, str]],
    reviewer: dict[str, str],
    demo_patients: int,
) -> None:
    template = pydicom.dcmread(io.BytesIO(device_photo()))
    metadata = dataset_to_dicom_json(template, bulk_data={"PixelData": "jpeg/1"})
    jpeg = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    boundary = "wic-b0undary"
    body = (
        f"--{boundary}\r\nContent-Type: application/dicom+json\r\n\r\n".encode()
        + json.dumps([metadata]).encode()
        + f"\r\n--{boundary}\r\nContent-Type: image/jpeg\r\n".encode()
        + b"Content-Location: jpeg/1\r\n\r\n"
        + jpeg
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        STORE,
        content=body,
        params=CLINICAL_ONLY,
        headers={
            **bearer("photographer"),
            "Content-Type": f'multipart/related; type="{DICOM_JSON}"; boundary={boundary}',
        },
    )
    assert response.status_code == 200, response.text
    [item] = response.json()[REFERENCED]["Value"]
    link = item["00081190"]["Value"][0].removeprefix("http://testserver.local")
    kept = client.get(link, headers={**reviewer, "Accept": "application/dicom; transfer-syntax=*"})
    made = pydicom.dcmread(io.BytesIO(kept.content))
    assert (made.Rows, made.Columns) == (480, 640), "the JPEG's own size"
    assert_valid_dicom(kept.content, expected_warnings=VIEW_WARNINGS)


def test_bad_requests_and_the_xml_answer(
    client: Client, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    refused = client.post(
        STORE, content=b"x", headers={**bearer("clinician"), "Content-Type": "application/dicom"}
    )
    assert refused.status_code == 415
    half = client.post(
        STORE,
        content=b"x",
        params={"consent_clinical": "yes"},
        headers={
            **bearer("clinician"),
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}',
        },
    )
    assert half.status_code == 422 and "consent_teaching" in half.json()["errors"]
    code, answer = stow(client, bearer("clinician"), device_pdf(), accept="application/dicom+xml")
    assert code == 200 and answer["body"].startswith(b"<?xml")
    assert client.post(STORE, content=b"").status_code == 401
