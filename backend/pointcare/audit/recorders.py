"""Events the application records in more than one place, built one way.

Each function builds the event(s) for one kind of access; the caller appends them with
``record`` (inside its own transaction) or ``record_now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.audit.events import (
    MAX_OBJECTS,
    Actor,
    AuditAction,
    AuditEvent,
    Outcome,
    PatientRef,
)
from pointcare.db.models import Patient, Study

MAX_SEARCH_RESULTS_LISTED = MAX_OBJECTS
"""A search lists every patient it returned (as MRN^^^issuer), up to an event's limit."""


def patient_key(mrn: str, issuer: str | None) -> str:
    """An MRN with its issuer, as an HL7 CX identifier: ``PC100001^^^PCDEMO``."""
    return f"{mrn}^^^{issuer}" if issuer else mrn


def patient_search(
    actor: Actor, *, criteria: Iterable[str], found: Sequence[Patient], via: str
) -> AuditEvent:
    """A patient search: which criteria were used (never their values: they may be names) and
    which patients came back."""
    listed = [patient_key(p.mrn, p.issuer) for p in found[:MAX_SEARCH_RESULTS_LISTED]]
    return AuditEvent(
        action=AuditAction.PATIENT_SEARCH,
        actor=actor,
        patient=PatientRef.of(found[0]) if len(found) == 1 else None,
        objects=tuple(listed),
        details={"by": ",".join(sorted(criteria)), "results": len(found), "via": via},
    )


def dicomweb_search(
    actor: Actor,
    *,
    parameters: Iterable[str],
    patients: Iterable[tuple[str, str | None]],
    level: str,
    results: int,
) -> AuditEvent:
    """A QIDO-RS search: the patients (MRN, issuer) whose objects it returned, and by which
    attributes it matched (their names only: values may be patients' names)."""
    found = sorted(set(patients), key=lambda key: (key[1] or "", key[0]))
    return AuditEvent(
        action=AuditAction.PATIENT_SEARCH,
        actor=actor,
        patient=PatientRef(mrn=found[0][0], issuer=found[0][1]) if len(found) == 1 else None,
        objects=tuple(patient_key(mrn, issuer) for mrn, issuer in found[:MAX_OBJECTS]),
        details={
            "by": ",".join(sorted({name for name in parameters if name})),
            "results": results,
            "via": f"qido-rs {level}",
        },
    )


def patient_opened(
    actor: Actor, patient: Patient, *, page: str, listed: Sequence[str] = ()
) -> list[AuditEvent]:
    """A patient's page was opened; when it lists photos (thumbnails), one more event for the
    whole list: a timeline is one view, however many thumbnails it loads."""
    ref = PatientRef.of(patient)
    events = [
        AuditEvent(
            action=AuditAction.PATIENT_OPEN, actor=actor, patient=ref, details={"page": page}
        )
    ]
    if listed:
        events.append(
            AuditEvent(
                action=AuditAction.IMAGE_LIST_VIEWED,
                actor=actor,
                patient=ref,
                objects=tuple(listed),
                details={"page": page, "images": len(listed)},
            )
        )
    return events


def image_viewed(
    actor: Actor,
    patient: PatientRef | None,
    uids: Sequence[str],
    *,
    via: str,
    outcome: Outcome = Outcome.SUCCESS,
) -> AuditEvent:
    """One image (or a study/series of them) shown or retrieved."""
    return AuditEvent(
        action=AuditAction.IMAGE_VIEWED,
        actor=actor,
        patient=patient,
        objects=tuple(uids),
        outcome=outcome,
        details={"via": via},
    )


def patient_of_study(session: Session, study_instance_uid: str) -> PatientRef | None:
    """The patient a study of ours belongs to (for DICOMweb retrievals, which name only UIDs)."""
    patient = session.scalar(
        select(Patient)
        .join(Study, Study.patient_id == Patient.id)
        .where(Study.study_instance_uid == study_instance_uid)
    )
    return PatientRef.of(patient) if patient is not None else None


def exported(
    actor: Actor,
    uids: Sequence[str],
    *,
    purpose: str,
    patient: PatientRef | None = None,
    destination: str | None = None,
) -> AuditEvent:
    """Images left Pointcare in bulk (a teaching export, a download of a set)."""
    return AuditEvent(
        action=AuditAction.EXPORT,
        actor=actor,
        patient=patient,
        objects=tuple(uids),
        details={"purpose": purpose, "destination": destination, "images": len(uids)},
    )
