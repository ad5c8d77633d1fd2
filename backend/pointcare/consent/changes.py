"""Recording consent changes and reading the consent in force for a set of photos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from pointcare.db.models import ConsentChange, Instance, Patient
from pointcare.domain.consent import ConsentMethod
from pointcare.errors import InvalidInput

MAX_NOTE = 200


class ConsentScope(StrEnum):
    TEACHING = "teaching"
    PUBLICATION = "publication"

    @property
    def label(self) -> str:
        return "Teaching" if self is ConsentScope.TEACHING else "Publication"


@dataclass(frozen=True, slots=True)
class ConsentInForce:
    """What one photo may be used for now."""

    clinical_record: bool
    teaching: bool
    publication: bool
    changed_at: datetime | None = None
    """When the last change that touched this photo was recorded; None if never changed."""


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A change as a form or an API states it, checked."""

    scope: ConsentScope
    granted: bool
    method: ConsentMethod
    note: str

    @classmethod
    def parse(cls, *, scope: str, granted: str, method: str, note: str) -> ChangeRequest:
        errors: dict[str, str] = {}
        try:
            chosen_scope = ConsentScope(scope.strip())
        except ValueError:
            errors["scope"] = "Choose teaching or publication."
        decision = granted.strip().lower()
        if decision not in ("true", "false"):
            errors["granted"] = "Choose whether consent is given or withdrawn."
        try:
            chosen_method = ConsentMethod(method.strip())
        except ValueError:
            errors["method"] = "Choose how the patient gave or withdrew consent."
        text = note.strip()
        if len(text) > MAX_NOTE:
            errors["note"] = f"Keep the note under {MAX_NOTE} characters."
        if not errors and decision == "true" and chosen_method is ConsentMethod.BEST_INTERESTS:
            errors["method"] = (
                "Consent in the patient's best interests covers the clinical record only: "
                "it cannot give consent for teaching or publication."
            )
        if errors:
            raise InvalidInput("The consent change was not recorded.", errors=errors)
        return cls(chosen_scope, decision == "true", chosen_method, text)


def record_change(
    session: Session,
    patient: Patient,
    change: ChangeRequest,
    *,
    recorded_by: int,
    instance: Instance | None = None,
) -> ConsentChange:
    """Add the change (the caller commits); for ``instance`` alone or every photo so far."""
    if instance is not None and instance.patient_id != patient.id:
        raise InvalidInput("This photo is not in this patient's record.")
    row = ConsentChange(
        patient_id=patient.id,
        instance_id=instance.id if instance is not None else None,
        scope=change.scope.value,
        granted=change.granted,
        method=change.method.value,
        note=change.note,
        recorded_by_id=recorded_by,
    )
    session.add(row)
    session.flush()
    return row


def consent_in_force(session: Session, instances: Sequence[Instance]) -> dict[int, ConsentInForce]:
    """The consent in force for each photo (by instance id), in one query for all of them.

    A patient-wide change applies to the photos stored before it was recorded; a photo taken
    afterwards carries the consent given at its own capture.
    """
    if not instances:
        return {}
    patients = {instance.patient_id for instance in instances}
    ids = [instance.id for instance in instances]
    changes = session.scalars(
        select(ConsentChange)
        .where(
            ConsentChange.patient_id.in_(patients),
            or_(ConsentChange.instance_id.is_(None), ConsentChange.instance_id.in_(ids)),
        )
        .order_by(ConsentChange.recorded_at.asc(), ConsentChange.id.asc())
    ).all()
    result: dict[int, ConsentInForce] = {}
    for instance in instances:
        consent = instance.consent_record
        teaching, publication = consent.teaching, consent.publication
        changed_at: datetime | None = None
        for change in changes:
            applies = (
                change.instance_id == instance.id
                if change.instance_id is not None
                else change.patient_id == instance.patient_id
                and instance.created_at <= change.recorded_at
            )
            if not applies:
                continue
            if change.scope == ConsentScope.TEACHING:
                teaching = change.granted
            else:
                publication = change.granted
            changed_at = change.recorded_at
        result[instance.id] = ConsentInForce(
            consent.clinical_record, teaching, publication, changed_at
        )
    return result


def history(
    session: Session, patient: Patient, instance: Instance | None = None
) -> list[ConsentChange]:
    """The changes that touch ``instance`` (or any of the patient's photos), newest first."""
    query = (
        select(ConsentChange)
        .where(ConsentChange.patient_id == patient.id)
        .options(joinedload(ConsentChange.recorded_by))
    )
    if instance is not None:
        query = query.where(
            or_(
                ConsentChange.instance_id == instance.id,
                ConsentChange.instance_id.is_(None)
                & (ConsentChange.recorded_at >= instance.created_at),
            )
        )
    return list(
        session.scalars(query.order_by(ConsentChange.recorded_at.desc(), ConsentChange.id.desc()))
    )
