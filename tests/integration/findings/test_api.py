"""Findings and measurements over the API: open, list, link, measure, refuse, record."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable

import cv2
import highdicom as hd
import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.corrections.service import Correction, CorrectionKind, correct
from pointcare.db.models import AuditRecord, Instance, Patient, User, WoundMeasurement
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.support.wound_scenes import Scene, marked_scene, scene_jpeg

Headers = Callable[[str], dict[str, str]]
FINDINGS = "/api/v1/patients/PC100001/findings"
MEASURE = "/api/v1/patients/PC100001/measurements"


@pytest.fixture(scope="module")
def scene() -> Scene:
    return marked_scene()


def jpeg(scene: Scene) -> bytes:
    return scene_jpeg(scene)


def open_wound(client: TestClient[Litestar], bearer: Headers, **fields: str) -> dict[str, object]:
    body = {"kind": "venous-ulcer", "body_site": "14975008", "laterality": "L"} | fields
    answer = client.post(FINDINGS, json=body, headers=bearer("photographer"))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_findings_are_opened_numbered_and_listed(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    first = open_wound(client, bearer, aspect="anterior")
    second = open_wound(client, bearer, kind="skin-lesion", body_site="54735007", laterality="")
    assert (first["label"], second["label"]) == ("Wound 1", "Lesion 1")
    assert first["aspect"] == "anterior" and second["laterality"] == "U"
    listed = client.get(FINDINGS, headers=bearer("clinician"))
    assert listed.status_code == 200
    assert {f["label"] for f in listed.json()} == {"Wound 1", "Lesion 1"}
    assert listed.headers["cache-control"] == "no-store"
    taken = client.post(
        FINDINGS,
        json={"kind": "burn", "body_site": "54735007", "label": "wound 1 "},
        headers=bearer("clinician"),
    )
    assert taken.status_code in (201, 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "bruise", "body_site": "54735007"}, "kind"),
        ({"kind": "burn", "body_site": "1"}, "body_site"),
        ({"kind": "burn", "body_site": "14975008"}, "laterality"),
        ({"kind": "burn", "body_site": "54735007", "opened_on": "2999-01-01"}, "opened_on"),
        ({"kind": "burn", "body_site": "54735007", "aspect": "sideways"}, "aspect"),
    ],
)
def test_bad_findings_are_4xx_problems(
    client: TestClient[Litestar],
    bearer: Headers,
    demo_patients: int,
    body: dict[str, str],
    field: str,
) -> None:
    answer = client.post(FINDINGS, json=body, headers=bearer("clinician"))
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.json()["errors"]


def test_measure_link_and_record(
    client: TestClient[Litestar], bearer: Headers, upload: Upload, runtime: Runtime, scene: Scene
) -> None:
    stored = upload(jpeg(scene))
    assert stored.status_code == 201, stored.text
    uid = stored.json()["sop_instance_uid"]
    outline = scene.outline_px.round(2).tolist()
    measured = client.post(
        MEASURE, json={"sop_instance_uid": uid, "outline": outline}, headers=bearer("clinician")
    )
    assert measured.status_code == 200, measured.text
    figures = measured.json()
    assert figures["area_cm2"] == pytest.approx(math.pi * 1.4 * 0.8, rel=0.015)
    assert figures["length_cm"] == pytest.approx(2.8, rel=0.015)
    assert figures["width_cm"] == pytest.approx(1.6, rel=0.015)
    assert figures["marker"]["tilt_deg"] < 30 and figures["measurement_id"] is None
    # Recording needs the photo filed under a finding first.
    unlinked = client.post(
        MEASURE,
        json={"sop_instance_uid": uid, "outline": outline, "record": True},
        headers=bearer("clinician"),
    )
    assert unlinked.status_code == 422 and "finding" in unlinked.json()["errors"]
    wound = open_wound(client, bearer)
    linked = client.post(
        f"{FINDINGS}/{wound['id']}/photos",
        json={"sop_instance_uid": uid},
        headers=bearer("clinician"),
    )
    assert linked.status_code == 204, linked.text
    recorded = client.post(
        MEASURE,
        json={"sop_instance_uid": uid, "outline": outline, "record": True},
        headers=bearer("clinician"),
    )
    assert recorded.status_code == 200
    report_uid = recorded.json()["report_sop_instance_uid"]
    with runtime.db.session() as session:
        row = session.get(WoundMeasurement, recorded.json()["measurement_id"])
        assert row is not None and row.finding_id == wound["id"]
        assert row.area_cm2 == pytest.approx(figures["area_cm2"], rel=1e-3)
        photo = session.scalar(select(Instance).where(Instance.sop_instance_uid == uid))
        assert photo is not None and photo.finding_id == wound["id"]
        report = row.report
        assert (report.sop_instance_uid, report.kind) == (report_uid, "measurement_report")
        assert report.study_id == photo.study_id and report.series_id != photo.series_id
        assert report.series.description == "Wound measurements"
        path = runtime.files.resolve(report.storage_path)
        event = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "measurement_report.stored")
        ).one()
        assert report_uid in event.objects and event.details["photo"] == uid
        assert "finding.change" in set(session.scalars(select(AuditRecord.action)))
    sr = hd.sr.Comprehensive3DSR.from_dataset(pydicom.dcmread(path))
    [group] = sr.content.get_planar_roi_measurement_groups(tracking_uid=wound["tracking_uid"])
    [area] = [m for m in group.get_measurements() if m.name.meaning == "Area"]
    assert float(area.value) == pytest.approx(figures["area_cm2"], rel=1e-3)
    assert group.reference_type.meaning == "Image Region"
    assert sr.StudyInstanceUID == stored.json()["study_instance_uid"]
    listed = client.get(FINDINGS, headers=bearer("clinician")).json()
    assert [f["photos"] for f in listed if f["id"] == wound["id"]] == [1]


def test_refusals_say_why(
    client: TestClient[Litestar], bearer: Headers, upload: Upload, scene: Scene
) -> None:
    blank = scene.image.copy()
    blank[:, : blank.shape[1] // 2 + 80] = 170  # the marker (left of the wound) is gone
    _, data = cv2.imencode(".jpg", blank)
    uid = upload(data.tobytes()).json()["sop_instance_uid"]
    answer = client.post(
        MEASURE,
        json={"sop_instance_uid": uid, "outline": scene.outline_px.tolist()},
        headers=bearer("clinician"),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"]["reason"] == "marker-missing"
    assert "No calibration marker" in answer.json()["detail"]
    crossing = client.post(
        MEASURE,
        json={"sop_instance_uid": uid, "outline": [[0, 0], [9, 9], [9, 0], [0, 9]]},
        headers=bearer("clinician"),
    )
    assert crossing.status_code == 422 and "crosses itself" in crossing.json()["detail"]
    unknown = client.post(
        MEASURE,
        json={"sop_instance_uid": "1.2.3", "outline": [[0, 0], [9, 9], [9, 0]]},
        headers=bearer("clinician"),
    )
    assert unknown.status_code == 404


def test_photographers_cannot_measure_and_the_sheet_is_a_pdf(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    refused = client.post(
        MEASURE,
        json={"sop_instance_uid": "1.2.3", "outline": [[0, 0], [1, 0], [0, 1]]},
        headers=bearer("photographer"),
    )
    assert refused.status_code == 403
    sheet = client.get("/api/v1/measurements/marker-sheet", headers=bearer("photographer"))
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "application/pdf"
    assert sheet.content.startswith(b"%PDF")


def test_the_openapi_document_tags_findings_and_measurements(
    client: TestClient[Litestar], bearer: Headers
) -> None:
    schema = client.get("/schema/openapi.json", headers=bearer("admin")).json()
    tags = {
        tag
        for path in schema["paths"].values()
        for op in path.values()
        for tag in op.get("tags", [])
    }
    assert {"findings", "measurements"} <= tags


@pytest.mark.parametrize("kind", [CorrectionKind.PATIENT, CorrectionKind.QUALITY])
def test_a_photo_leaving_the_record_takes_its_measurement_report_along(
    client: TestClient[Litestar],
    bearer: Headers,
    upload: Upload,
    runtime: Runtime,
    scene: Scene,
    kind: CorrectionKind,
) -> None:
    """Filed under the wrong patient (or too poor to keep), the photo is rejected, and so is
    the report measured on it: no measurement of one patient's wound stays in another's record."""
    wound = open_wound(client, bearer)
    stored = upload(jpeg(scene), finding=str(wound["id"]))
    assert stored.status_code == 201, stored.text
    uid = stored.json()["sop_instance_uid"]
    recorded = client.post(
        MEASURE,
        json={"sop_instance_uid": uid, "outline": scene.outline_px.tolist(), "record": True},
        headers=bearer("clinician"),
    )
    assert recorded.status_code == 200, recorded.text
    report_uid = recorded.json()["report_sop_instance_uid"]
    with runtime.db.session() as session:
        doctor = session.scalars(select(User).where(User.role == "clinician")).first()
        here, there = (
            session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
            for mrn in ("PC100001", "PC100002")
        )
        session.expunge_all()
    assert doctor is not None
    who = Principal(doctor.id, doctor.username, doctor.display_name, Role.CLINICIAN)
    result = correct(
        runtime,
        who,
        audit.Actor.of(who),
        here,
        [uid],
        Correction(kind, "Photographed with the neighbour's wristband", str(uuid.uuid4()), there)
        if kind is CorrectionKind.PATIENT
        else Correction(kind, "Blurred, measured by mistake", str(uuid.uuid4())),
    )
    assert result.rejected == [uid, report_uid]
    with runtime.db.session() as session:
        [note_uid] = result.notes
        note = session.scalars(select(Instance).where(Instance.sop_instance_uid == note_uid)).one()
        rejected_by = {
            row.sop_instance_uid: row.rejected_by_id
            for row in session.scalars(
                select(Instance).where(Instance.sop_instance_uid.in_([uid, report_uid]))
            )
        }
        kos = pydicom.dcmread(runtime.files.resolve(note.storage_path))
    assert rejected_by == {uid: note.id, report_uid: note.id}
    listed = {
        item.ReferencedSOPInstanceUID
        for study in kos.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert listed == {uid, report_uid}
    found = client.get(
        f"/dicomweb/studies/{stored.json()['study_instance_uid']}/instances",
        headers=bearer("clinician"),
    )
    assert report_uid not in found.text and uid not in found.text
