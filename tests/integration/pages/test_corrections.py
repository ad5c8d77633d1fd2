"""Corrections (IHE IOCM) on the built-in archive: reject, store a corrected copy, hide the
original, keep everything for the record; bad requests change nothing."""

from __future__ import annotations

from io import BytesIO

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import dcmread
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pointcare import audit
from pointcare.db.models import Instance, RejectionNote
from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom
from tests.support.tools import corpus

OBERG = "/patients/PC100001"
ISSUER = "?issuer=PCDEMO"
DICOM_JSON = {"Accept": "application/dicom+json"}


def _store(upload: Upload, **fields: str) -> str:
    response = upload(
        corpus("photos", "gps", "DSCN0010.jpg"), role="clinician", view="close-up", **fields
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sop_instance_uid"])


def _form(client: TestClient[Litestar], uid: str) -> dict[str, str]:
    page = client.get(f"{OBERG}/photos/{uid}/correct{ISSUER}")
    assert page.status_code == 200
    token = page.text.split('name="token" value="')[1].split('"')[0]
    return {"token": token}


def _post(client: TestClient[Litestar], uid: str, form: dict[str, str]) -> httpx.Response:
    return client.post(f"{OBERG}/photos/{uid}/correct{ISSUER}", data=form)


def _row(runtime: Runtime, uid: str) -> Instance:
    with runtime.db.session() as session:
        query = select(Instance).where(Instance.sop_instance_uid == uid)
        options = (joinedload(Instance.study), joinedload(Instance.series))
        return session.scalars(query.options(*options)).one()


def _object(runtime: Runtime, row: Instance) -> bytes:
    return runtime.files.resolve(row.storage_path).read_bytes()


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.db.session() as session:
        return (
            session.scalar(select(func.count(Instance.id)).where(Instance.kind == "photo")) or 0,
            session.scalar(select(func.count(Instance.id)).where(Instance.rejected_at.is_not(None)))
            or 0,
            session.scalar(select(func.count(RejectionNote.instance_id))) or 0,
        )


def test_moving_a_photo_needs_the_right_patient_confirmed_then_rejects_and_copies(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    uid = _store(upload)
    clinician = browser("clinician")
    form = _form(clinician, uid) | {
        "kind": "patient",
        "reason": "Photographed Mr O'Brien with Mrs Öberg's wristband in view",
        "target_mrn": "PC100003",
    }
    confirm = _post(clinician, uid, form)
    assert confirm.status_code == 200
    assert 'O&#39;BRIEN</span>, <span class="given-name">Seán' in confirm.text
    assert "30 Jul 1948" in confirm.text
    assert "I checked name, birth date and MRN" in confirm.text
    assert _counts(runtime) == (1, 0, 0), "nothing moves before the target is confirmed"

    done = _post(clinician, uid, form | {"target_confirmed": "true", "target_issuer": "PCDEMO"})
    assert done.status_code == 200, done.text
    assert "Moved to O&#39;BRIEN, Seán" in done.text

    original = _row(runtime, uid)
    assert original.rejected_at is not None
    with runtime.db.session() as session:
        copy = session.scalars(select(Instance).where(Instance.replaces_id == original.id)).one()
        note = session.get_one(Instance, original.rejected_by_id)
        assert session.get_one(RejectionNote, note.id).reason_code == "113037"
    assert copy.patient_id != original.patient_id
    # The copy: same pixels byte for byte, the right patient, valid DICOM.
    copied = _object(runtime, copy)
    assert first_jpeg_frame(copied) == first_jpeg_frame(_object(runtime, original))
    ds = dcmread(BytesIO(copied))
    assert ds.PatientID == "PC100003" and str(ds.PatientName) == "O'Brien^Seán"
    assert ds.SOPInstanceUID != uid and ds.StudyInstanceUID != original.study.study_instance_uid
    assert_valid_dicom(copied, expected_warnings=VIEW_WARNINGS)
    # The rejection note: a valid KOS in the original's study, naming the original.
    kos_bytes = runtime.files.resolve(note.storage_path).read_bytes()
    assert_valid_dicom(kos_bytes)
    kos = dcmread(BytesIO(kos_bytes))
    assert kos.ConceptNameCodeSequence[0].CodeValue == "113037"
    assert kos.PatientID == "PC100001"
    assert kos.StudyInstanceUID == original.study.study_instance_uid
    listed = kos.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert [i.ReferencedSOPInstanceUID for i in listed.ReferencedSOPSequence] == [uid]

    # Öberg's pages no longer show it; O'Brien's do.
    assert uid not in clinician.get(f"{OBERG}{ISSUER}").text
    assert clinician.get(f"{OBERG}/photos/{uid}{ISSUER}").status_code == 404
    assert copy.sop_instance_uid in clinician.get(f"/patients/PC100003{ISSUER}").text

    with runtime.db.session() as session:
        found = audit.search(session, audit.AuditQuery(action=audit.AuditAction.CORRECTION))
    (event,) = found.events
    assert uid in event.objects and copy.sop_instance_uid in event.objects
    assert event.details["kind"] == "patient" and event.details["target_mrn"] == "PC100003"

    # The same form again: the photo is already corrected, nothing is stored twice.
    again = _post(clinician, uid, form | {"target_confirmed": "true", "target_issuer": "PCDEMO"})
    assert again.status_code in (404, 409)
    assert _counts(runtime) == (2, 1, 1)


def test_wrong_side_is_corrected_with_a_linked_copy(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    uid = _store(upload, laterality="L")
    clinician = browser("clinician")
    form = _form(clinician, uid) | {
        "kind": "details",
        "laterality": "R",
        "reason": "Wound is on the right forearm",
    }
    assert _post(clinician, uid, form).status_code == 200
    original = _row(runtime, uid)
    with runtime.db.session() as session:
        copy = session.scalars(select(Instance).where(Instance.replaces_id == original.id)).one()
    assert copy.laterality == "R" and copy.patient_id == original.patient_id
    assert copy.body_site_code == original.body_site_code
    assert dcmread(BytesIO(_object(runtime, copy))).ImageLaterality == "R"
    review = clinician.get(f"{OBERG}{ISSUER}").text
    assert copy.sop_instance_uid in review and uid not in review


def test_quality_rejection_of_a_whole_session_hides_it_and_the_admin_lists_it(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    session_id = "6b3c2b1e-52a2-4a5a-9a43-1f6f2a8b9c10"
    first = _store(upload, session_id=session_id)
    second = _store(upload, session_id=session_id)
    clinician = browser("clinician")
    page = clinician.get(f"{OBERG}/photos/{first}/correct{ISSUER}")
    assert "All 2 photos of this session" in page.text
    form = _form(clinician, first) | {
        "kind": "quality",
        "scope": "session",
        "reason": "Blurred: retaken",
    }
    assert _post(clinician, first, form).status_code == 200
    assert _counts(runtime) == (2, 2, 1)
    review = clinician.get(f"{OBERG}{ISSUER}").text
    assert first not in review and second not in review
    # Hidden from DICOMweb too: QIDO-RS finds nothing, WADO-RS retrieves nothing.
    qido = clinician.get("/dicomweb/instances?PatientID=PC100001", headers=DICOM_JSON)
    assert qido.status_code in (200, 204) and first not in qido.text
    row = _row(runtime, first)
    wado = clinician.get(
        f"/dicomweb/studies/{row.study.study_instance_uid}/series/{row.series.series_instance_uid}"
        f"/instances/{first}/rendered",
        headers={"Accept": "image/jpeg"},
    )
    assert wado.status_code == 404
    admin = browser("admin").get("/admin/rejected")
    assert admin.status_code == 200
    assert first in admin.text and second in admin.text and "Blurred: retaken" in admin.text
    assert clinician.get("/admin/rejected").status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": ""}, "Choose what is wrong."),
        ({"kind": "quality", "reason": "bad"}, "Say why, in a few words"),
        ({"kind": "patient", "target_mrn": ""}, "Type the MRN of the right patient."),
        ({"kind": "patient", "target_mrn": "NOPE123"}, "No patient with MRN NOPE123 is known."),
        ({"kind": "details"}, "Change at least one of site, side, aspect, view or description."),
        ({"kind": "details", "body_site": "999"}, "Choose a body site from the list."),
        ({"kind": "details", "laterality": "X"}, "Choose Right, Left or Both sides."),
        ({"kind": "quality", "token": "not-a-uuid"}, "The correction form has expired"),
    ],
)
def test_bad_corrections_are_refused_readably_and_change_nothing(
    browser: SignIn, upload: Upload, runtime: Runtime, fields: dict[str, str], message: str
) -> None:
    uid = _store(upload)
    clinician = browser("clinician")
    form = _form(clinician, uid) | {"reason": "A good reason here"} | fields
    answer = _post(clinician, uid, form)
    assert answer.status_code == 422
    assert message in answer.text.replace("&#39;", "'")
    assert _counts(runtime) == (1, 0, 0)


def test_moving_to_the_same_patient_is_refused(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    uid = _store(upload)
    clinician = browser("clinician")
    form = _form(clinician, uid) | {
        "kind": "patient",
        "reason": "Testing the same patient",
        "target_mrn": "PC100001",
        "target_issuer": "PCDEMO",
        "target_confirmed": "true",
    }
    answer = _post(clinician, uid, form)
    assert answer.status_code == 422
    assert "That is the same patient" in answer.text
    assert _counts(runtime) == (1, 0, 0)


def test_photographers_cannot_correct(browser: SignIn, upload: Upload, runtime: Runtime) -> None:
    uid = _store(upload)
    nurse = browser("photographer")
    assert nurse.get(f"{OBERG}/photos/{uid}/correct{ISSUER}").status_code == 403
    form = {
        "kind": "quality",
        "reason": "Blurred photo",
        "token": "6b3c2b1e-52a2-4a5a-9a43-1f6f2a8b9c10",
    }
    assert _post(nurse, uid, form).status_code == 403
    assert _counts(runtime) == (1, 0, 0)


def test_the_right_patient_is_shown_on_the_bedside_card_whatever_the_mrn_s_case(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    uid = _store(upload)
    clinician = browser("clinician")
    form = _form(clinician, uid) | {
        "kind": "patient",
        "reason": "Photographed with another patient's wristband in view",
        "target_mrn": "  pc100005 ",
    }
    confirm = _post(clinician, uid, form)
    assert confirm.status_code == 200, confirm.text
    # The same card as at the bedside: two identifiers large, and the same-name warning
    # (PC100004 is also Eva Andersson).
    assert 'class="card confirm-card"' in confirm.text
    assert 'ANDERSSON</span>, <span class="given-name">Eva' in confirm.text
    assert "Another patient has the same name" in confirm.text
    assert 'name="target_mrn" value="PC100005"' in confirm.text
    assert _counts(runtime) == (1, 0, 0)
