"""Merging patient records (ADT A40) in the directory, on each database backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.models import ConsentRecord, Finding, Patient, Study, User
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.errors import Conflict, InvalidInput
from pointcare.identity.directory import find_by_mrn, record_patient, same_name_exists, search
from pointcare.identity.merge import MergeOutcome, merge_patients


def identity(mrn: str, **fields: object) -> PatientIdentity:
    base = PatientIdentity(
        mrn=mrn,
        issuer="HOSP",
        family_name="Lindqvist",
        given_name="Karin",
        birth_date=date(1961, 7, 2),
        sex=Sex.FEMALE,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def merge(session: Session, survivor: str, prior: str) -> MergeOutcome:
    return merge_patients(session, identity(survivor), prior_mrn=prior, prior_issuer="HOSP").outcome


def add_study_and_consent(session: Session, patient: Patient) -> None:
    user = User(username=f"u{patient.id}", display_name="U", role="photographer", active=True)
    session.add(user)
    session.flush()
    session.add(
        Study(
            study_instance_uid=f"2.25.{patient.id}",
            study_key=f"day:{patient.id}:2026-05-04",
            patient_id=patient.id,
            study_id="S1",
            study_datetime=datetime(2026, 5, 4, 8, tzinfo=UTC),
            study_tz_offset_minutes=120,
            description="Clinical photography",
        )
    )
    session.add(
        ConsentRecord(
            patient_id=patient.id,
            clinical_record=True,
            teaching=False,
            publication=False,
            method="verbal",
            session_key="s",
            recorded_by_id=user.id,
        )
    )
    session.flush()


def test_the_prior_records_studies_and_consent_move_to_the_survivor(db: Database) -> None:
    with db.write() as session:
        old, _ = record_patient(session, identity("OLD", visit_number="V1"))
        add_study_and_consent(session, old)
        report = merge_patients(session, identity("NEW"), prior_mrn="OLD", prior_issuer="HOSP")
        assert report.outcome is MergeOutcome.MERGED
        new_id = report.survivor.id
    with db.session() as session:
        assert session.scalars(select(Study.patient_id)).all() == [new_id]
        assert session.scalars(select(ConsentRecord.patient_id)).all() == [new_id]
        survivor = find_by_mrn(session, "OLD", "HOSP")
        assert survivor is not None
        assert (survivor.id, survivor.mrn) == (new_id, "NEW")
        # A merge carries no encounter: a new survivor has none, and none is invented.
        assert survivor.visit_number is None
        assert [p.mrn for p in search(session, name="lindqvist")] == ["NEW"]
        assert not same_name_exists(session, survivor)


def test_merges_stay_one_hop_deep(db: Database) -> None:
    with db.write() as session:
        for mrn in ("A", "B"):
            record_patient(session, identity(mrn))
        assert merge(session, "B", "A") is MergeOutcome.MERGED
        assert merge(session, "C", "B") is MergeOutcome.MERGED
    with db.session() as session:
        c = find_by_mrn(session, "C", "HOSP")
        assert c is not None
        rows = session.execute(select(Patient.mrn, Patient.merged_into_id))
        links = {mrn: merged_into for mrn, merged_into in rows}
        assert links == {"A": c.id, "B": c.id, "C": None}
        found = find_by_mrn(session, "A")
        assert found is not None
        assert found.mrn == "C"


def test_the_same_merge_again_changes_nothing(db: Database) -> None:
    with db.write() as session:
        record_patient(session, identity("OLD"))
        assert merge(session, "NEW", "OLD") is MergeOutcome.MERGED
        assert merge(session, "NEW", "OLD") is MergeOutcome.ALREADY_MERGED


def test_an_unknown_prior_mrn_becomes_an_alias(db: Database) -> None:
    with db.write() as session:
        assert merge(session, "NEW", "NEVER-SEEN") is MergeOutcome.ALIAS
    with db.session() as session:
        found = find_by_mrn(session, "NEVER-SEEN")
        assert found is not None
        assert found.mrn == "NEW"
        assert [p.mrn for p in search(session, name="lindqvist karin")] == ["NEW"]


def test_refusals(db: Database) -> None:
    with db.write() as session:
        record_patient(session, identity("OLD"))
        merge(session, "NEW", "OLD")
    with db.write() as session, pytest.raises(Conflict, match="already merged into MRN NEW"):
        merge(session, "THIRD", "OLD")
    with db.write() as session, pytest.raises(Conflict, match="was merged into MRN NEW"):
        record_patient(session, identity("OLD", family_name="Late"))
    with db.write() as session, pytest.raises(Conflict, match="was merged into MRN NEW"):
        merge(session, "OLD", "SOMEONE")  # the survivor itself was merged
    with db.write() as session, pytest.raises(InvalidInput, match="into itself"):
        merge(session, "NEW", "NEW")


def test_findings_move_and_a_clashing_label_takes_the_prior_mrn(db: Database) -> None:
    with db.write() as session:
        old, _ = record_patient(session, identity("OLD"))
        new, _ = record_patient(session, identity("NEW"))
        user = User(username="clin", display_name="C", role="clinician", active=True)
        session.add(user)
        session.flush()
        for patient, label, uid in (
            (old, "Wound 1", "2.25.11"),
            (old, "Lesion 1", "2.25.12"),
            (new, "Wound 1", "2.25.13"),
        ):
            session.add(
                Finding(
                    patient_id=patient.id,
                    tracking_uid=uid,
                    kind="pressure-injury",
                    label=label,
                    body_site_code="54735007",
                    laterality="U",
                    opened_on=date(2026, 5, 1),
                    created_by_id=user.id,
                )
            )
        session.flush()
        assert merge(session, "NEW", "OLD") is MergeOutcome.MERGED
        new_id = new.id
    with db.session() as session:
        rows = session.execute(select(Finding.patient_id, Finding.label).order_by(Finding.id)).all()
        assert [tuple(r) for r in rows] == [
            (new_id, "Wound 1 (MRN OLD)"),
            (new_id, "Lesion 1"),
            (new_id, "Wound 1"),
        ]
