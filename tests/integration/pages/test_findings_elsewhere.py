"""Findings through the other pages: a corrected copy of a photo (same patient) stays under its
finding with its measurements; compare defaults to the same finding; a finding closed from its
page is no longer offered to file photos under."""

from __future__ import annotations

import io
import re
import zipfile

import cv2
import numpy as np
import pypdfium2
import pytest
from highdicom.sr import Comprehensive3DSR
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import dcmread
from sqlalchemy import select

from pointcare import audit
from pointcare.db.models import AuditRecord, Instance, WoundMeasurement
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.tools import corpus
from tests.support.wound_scenes import Camera, ellipse, render

OBERG = "/patients/PC100001"
ISSUER = "?issuer=PCDEMO"


@pytest.fixture(scope="module")
def photo() -> tuple[bytes, list[list[float]]]:
    camera = Camera(1200, 900, 900.0, 10.0, 40.0, 0.0, 150.0, (20.0, 0.0))
    scene = render(camera, ellipse(12.0, 8.0, (40.0, 0.0)), np.random.default_rng(9), blur_px=0.6)
    _, jpeg = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return jpeg.tobytes(), scene.outline_px.round(2).tolist()


def _measured_under_a_finding(
    client: TestClient[Litestar], uid: str, outline: list[list[float]]
) -> int:
    """Open a finding, link the photo, record a measurement (as the browser's session)."""
    headers = {"Accept": "application/json"}
    finding = client.post(
        "/api/v1/patients/PC100001/findings",
        json={"kind": "surgical-wound", "body_site": "14975008", "laterality": "L"},
        headers=headers,
    ).json()
    link = f"/api/v1/patients/PC100001/findings/{finding['id']}/photos"
    assert client.post(link, json={"sop_instance_uid": uid}, headers=headers).status_code == 204
    body = {"sop_instance_uid": uid, "outline": outline, "record": True}
    measured = client.post("/api/v1/patients/PC100001/measurements", json=body, headers=headers)
    assert measured.status_code == 200, measured.text
    return int(finding["id"])


def test_a_details_correction_keeps_the_finding_and_its_measurement(
    browser: SignIn,
    upload: Upload,
    runtime: Runtime,
    photo: tuple[bytes, list[list[float]]],
) -> None:
    jpeg, outline = photo
    uid = upload(jpeg, role="clinician").json()["sop_instance_uid"]
    clinician = browser("clinician")
    finding_id = _measured_under_a_finding(clinician, uid, outline)
    page = clinician.get(f"{OBERG}/photos/{uid}/correct{ISSUER}")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    form = {
        "token": token,
        "kind": "details",
        "description": "Dressing removed",
        "reason": "Describe the dressing",
    }
    assert clinician.post(f"{OBERG}/photos/{uid}/correct{ISSUER}", data=form).status_code == 200
    with runtime.db.session() as session:
        original = session.scalars(select(Instance).where(Instance.sop_instance_uid == uid)).one()
        copy = session.scalars(select(Instance).where(Instance.replaces_id == original.id)).one()
        assert copy.finding_id == finding_id
        (measurement,) = session.scalars(select(WoundMeasurement)).all()
        assert measurement.photo_id == copy.id


def test_compare_defaults_to_the_same_finding(browser: SignIn, upload: Upload) -> None:
    """Two wounds on the same forearm: comparing a photo of one shows that wound over time, not
    the other wound's photos taken of the same site and side."""
    clinician = browser("clinician")
    headers = {"Accept": "application/json"}
    uids = [
        upload(
            photo_of_forearm(), role="clinician", captured_at=f"2026-05-{day}T10:15:00+02:00"
        ).json()["sop_instance_uid"]
        for day in ("01", "08", "15", "22")
    ]
    wounds = [
        clinician.post(
            "/api/v1/patients/PC100001/findings",
            json={"kind": "burn", "body_site": "14975008", "laterality": "L"},
            headers=headers,
        ).json()["id"]
        for _ in range(2)
    ]
    for uid, wound in zip(uids, [wounds[0], wounds[1], wounds[0], wounds[1]], strict=True):
        link = f"/api/v1/patients/PC100001/findings/{wound}/photos"
        clinician.post(link, json={"sop_instance_uid": uid}, headers=headers)
    page = clinician.get(f"{OBERG}/compare{ISSUER}&photo={uids[2]}")
    shown = re.findall(r"/instances/([0-9.]+)/rendered\?viewport=1600,1600", page.text)
    assert shown == [uids[0], uids[2]]


def photo_of_forearm() -> bytes:
    return corpus("photos", "gps", "DSCN0010.jpg").read_bytes()


def test_the_report_for_one_finding_holds_its_trend_and_measurements(
    browser: SignIn, upload: Upload, photo: tuple[bytes, list[list[float]]]
) -> None:
    jpeg, outline = photo
    uid = upload(jpeg, role="clinician").json()["sop_instance_uid"]
    clinician = browser("clinician")
    finding_id = _measured_under_a_finding(clinician, uid, outline)
    page = clinician.get(f"{OBERG}/findings/{finding_id}{ISSUER}")
    assert page.status_code == 200 and "<svg" in page.text and "trend-point" in page.text
    form = {"finding": str(finding_id), "photos": uid}
    report = clinician.post(f"{OBERG}/export/report{ISSUER}", data=form)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(report.content)
    try:
        text = document[1].get_textpage().get_text_range()
        assert "Wound 1: surgical wound, left forearm" in text
        assert "cm²" in text and "Measured by" in text
        assert len(document) == 3  # cover, the finding, the photo
    finally:
        document.close()


def test_a_finding_closed_from_its_page_takes_no_new_photo(browser: SignIn) -> None:
    clinician = browser("clinician")
    finding = clinician.post(
        "/api/v1/patients/PC100001/findings",
        json={"kind": "burn", "body_site": "14975008", "laterality": "R"},
        headers={"Accept": "application/json"},
    ).json()
    page = f"{OBERG}/findings/{finding['id']}{ISSUER}"
    capture = f"{OBERG}/capture{ISSUER}"
    assert "Close Wound 1" in clinician.get(page).text
    assert "Wound 1: burn" in clinician.get(capture).text
    close = f"{OBERG}/findings/{finding['id']}/close{ISSUER}"
    future = clinician.post(close, data={"closed_on": "2999-01-01"})
    assert future.status_code == 422 and "future" in future.text
    closed = clinician.post(close, data={"closed_on": ""}, follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"].endswith(page)
    shown = clinician.get(page).text
    assert "closed" in shown and "Close Wound 1" not in shown
    assert clinician.post(close, data={}).status_code == 409
    # Capture forms offer open findings only.
    assert "Wound 1: burn" not in clinician.get(capture).text


def test_a_measured_photo_leaves_in_a_dicom_export_with_its_measurement_report(
    browser: SignIn, upload: Upload, runtime: Runtime, photo: tuple[bytes, list[list[float]]]
) -> None:
    """The receiving PACS shows the wound's measurement too: the SR is in the ZIP, indexed by
    the DICOMDIR, and named by the export's audit event."""
    jpeg, outline = photo
    uid = upload(jpeg, role="clinician").json()["sop_instance_uid"]
    clinician = browser("clinician")
    _measured_under_a_finding(clinician, uid, outline)
    with runtime.db.session() as session:
        report_uid = session.scalars(
            select(Instance.sop_instance_uid)
            .join(WoundMeasurement, WoundMeasurement.report_id == Instance.id)
            .join(Instance.patient)
            .where(
                WoundMeasurement.photo_id.in_(
                    select(Instance.id).where(Instance.sop_instance_uid == uid)
                )
            )
        ).one()
    exported = clinician.post(f"{OBERG}/export/dicom{ISSUER}", data={"photos": uid})
    assert exported.status_code == 200, exported.text[:300]
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    dicomdir = dcmread(io.BytesIO(archive.read("DICOMDIR")))
    records = {
        record.DirectoryRecordType: record.ReferencedSOPInstanceUIDInFile
        for record in dicomdir.DirectoryRecordSequence
        if "ReferencedSOPInstanceUIDInFile" in record
    }
    assert records == {"IMAGE": uid, "SR DOCUMENT": report_uid}
    [report_file] = [
        name
        for name in archive.namelist()
        if name != "DICOMDIR"
        and dcmread(io.BytesIO(archive.read(name))).SOPInstanceUID == report_uid
    ]
    report = Comprehensive3DSR.from_dataset(dcmread(io.BytesIO(archive.read(report_file))))
    assert report.SOPInstanceUID == report_uid
    with runtime.db.session() as session:
        event = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == audit.AuditAction.EXPORT.value)
            .order_by(AuditRecord.seq.desc())
            .limit(1)
        ).one()
        assert event.objects == [uid, report_uid]
