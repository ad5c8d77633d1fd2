"""What becomes of a received object before it is stored: the patient it names must be the
directory's (two identifiers), and it must not clash with what the archive holds."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from pointcare.db.models import Instance, Patient
from pointcare.dicom import store_status as status
from pointcare.dicom.modules import StudyContext
from pointcare.dicom.uids import new_uid
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.imaging.photo import normalise_photo
from pointcare.intake.received import read_part10
from pointcare.intake.service import Accepted, Refusal, examine
from pointcare.runtime import Runtime
from tests.support.consent import CLINICAL_ONLY
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import PATIENT
from tests.unit.dicom.test_photo import build
from tests.unit.imaging.images import jpeg_bytes, scene
from tests.unit.intake.test_received import MAX_PIXELS

OBERG = PATIENT
"""Öberg, Åsa (PC100001) as the directory holds her."""


def received_for(
    patient: PatientIdentity,
    *,
    study_uid: str | None = None,
    change: Callable[[pydicom.Dataset], None] | None = None,
    **names: Any,
) -> bytes:
    """A photo object from a capture device for ``patient`` (with ``names`` changed, then the
    data set changed by ``change``)."""
    photo = normalise_photo(jpeg_bytes(scene((161, 121))), max_pixels=MAX_PIXELS)
    study = StudyContext(
        study_instance_uid=study_uid or new_uid(),
        study_datetime=datetime(2024, 11, 5, 13, 0, tzinfo=UTC),
        study_id="DEV1",
        accession_number="",
        admission_id=None,
    )
    dataset = build(photo, patient=replace(patient, **names), study=study)
    if change is not None:
        change(dataset)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def verdict(runtime: Runtime, data: bytes, target: str | None = None) -> Accepted | Refusal:
    with runtime.db.session() as session:
        return examine(session, read_part10(data, max_pixels=MAX_PIXELS), target_study=target)


def refused(runtime: Runtime, data: bytes, target: str | None = None) -> Refusal:
    found = verdict(runtime, data, target)
    assert isinstance(found, Refusal), found
    return found


def test_an_object_for_a_directory_patient_is_accepted(
    runtime: Runtime, demo_patients: int
) -> None:
    found = verdict(runtime, received_for(OBERG))
    assert isinstance(found, Accepted)
    assert not found.stored_before
    with runtime.db.session() as session:
        patient = session.get_one(Patient, found.patient_id)
        assert (patient.mrn, patient.issuer) == ("PC100001", "PCDEMO")
    # Names agree when they fold alike; the issuer may be left out when the MRN is unique.
    plain = received_for(
        OBERG,
        family_name="OBERG",
        given_name="asa",
        change=lambda ds: delattr(ds, "IssuerOfPatientID"),
    )
    assert isinstance(verdict(runtime, plain), Accepted)


def unnamed(dataset: pydicom.Dataset) -> None:
    dataset.PatientName = ""
    dataset.PatientBirthDate = ""


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        ({"mrn": "PC999999"}, status.UNKNOWN_PATIENT, "is not in the patient directory"),
        ({"issuer": "OTHER"}, status.UNKNOWN_PATIENT, "is not in the patient directory"),
        ({"family_name": "Andersson"}, status.PATIENT_MISMATCH, "Patient's Name does not match"),
        ({"given_name": "Eva"}, status.PATIENT_MISMATCH, "Patient's Name does not match"),
        ({"birth_date": date(1957, 3, 15)}, status.PATIENT_MISMATCH, "Birth Date does not match"),
        ({"sex": Sex.MALE}, status.PATIENT_MISMATCH, "Patient's Sex does not match"),
        ({"change": unnamed}, status.PATIENT_MISMATCH, "two identifiers"),
    ],
)
def test_a_patient_who_is_not_the_directorys_is_refused(
    runtime: Runtime, demo_patients: int, changes: dict[str, Any], code: int, reason: str
) -> None:
    found = refused(runtime, received_for(OBERG, **changes))
    assert found.code == code
    assert reason in found.reason
    assert "Öberg" not in found.reason and "1957" not in found.reason, "no patient data echoed"


def test_a_merged_patient_id_is_refused_with_the_one_to_use(
    runtime: Runtime, demo_patients: int
) -> None:
    with runtime.db.write() as session:
        survivor = session.scalars(select(Patient).where(Patient.mrn == "PC100002")).one()
        session.execute(
            update(Patient).where(Patient.mrn == "PC100001").values(merged_into_id=survivor.id)
        )
    found = refused(runtime, received_for(OBERG))
    assert found.code == status.PATIENT_MISMATCH
    assert "was merged into PC100002" in found.reason


def test_what_the_archive_holds_decides_the_rest(
    runtime: Runtime,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
) -> None:
    answer = client.post(
        "/api/v1/photos",
        data={
            "patient_id": "PC100001",
            "body_site": "14975008",
            "laterality": "L",
            "capture_id": "5d0f3a8e-0000-4000-8000-000000000001",
            "captured_at": "2024-05-04T10:00:00+02:00",
            **CLINICAL_ONLY,
        },
        files={
            "file": ("p.jpg", corpus("photos", "gps", "DSCN0010.jpg").read_bytes(), "image/jpeg")
        },
        headers=bearer("photographer"),
    )
    assert answer.status_code == 201, answer.text
    with runtime.db.session() as session:
        instance = session.scalars(select(Instance)).one()
        stored = runtime.files.read(instance.storage_path)
        study_uid = instance.study.study_instance_uid
        series_uid = instance.series.series_instance_uid
    # The same object again (a retry): accepted, nothing new to store.
    again = verdict(runtime, stored)
    assert isinstance(again, Accepted) and again.stored_before
    # Its UID with other content: refused.
    changed = pydicom.dcmread(io.BytesIO(stored))
    changed.ImageComments = "edited"
    buffer = io.BytesIO()
    changed.save_as(buffer, enforce_file_format=True)
    assert "other content" in refused(runtime, buffer.getvalue()).reason
    # Its study, for another patient: refused, never mixed.
    eva = PatientIdentity(
        mrn="PC100004",
        issuer="PCDEMO",
        family_name="Andersson",
        given_name="Eva",
        birth_date=date(1962, 5, 9),
        sex=Sex.FEMALE,
    )
    other = refused(runtime, received_for(eva, study_uid=study_uid))
    assert "held here for another patient" in other.reason
    # The study this request stores into must be the object's.
    target = refused(runtime, received_for(OBERG), target=study_uid)
    assert f"not the study this request stores into ({study_uid})" in target.reason
    # A rejected instance is not taken back.
    with runtime.db.write() as session:
        session.execute(update(Instance).values(rejected_at=datetime.now(UTC)))
    assert "was rejected here" in refused(runtime, stored).reason
    assert series_uid
