"""Opening, listing and closing findings, and linking photos to them.

Every change is audited in the transaction that makes it. A photo is linked to a finding of its
own patient only, never to a rejected photo; a finding's label is unique for its patient.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.corrections.visibility import not_rejected
from pointcare.db.engine import Database
from pointcare.db.models import Finding, Instance, Patient, WoundMeasurement
from pointcare.dicom.uids import new_uid
from pointcare.domain.body_sites import (
    Aspect,
    BodySite,
    Laterality,
    body_site,
    parse_laterality,
    site_with_side,
)
from pointcare.domain.findings import FindingDetails, FindingKind, next_label
from pointcare.errors import Conflict, InvalidInput, NotFound

_Choice = TypeVar("_Choice", FindingKind, Aspect)
_UID = re.compile(r"[0-9.]{1,64}")


@dataclass(frozen=True, slots=True)
class FindingRequest:
    """A new finding as the clinician states it; ``label`` None for the next "Wound N"."""

    kind: FindingKind
    label: str | None
    body_site: BodySite
    laterality: Laterality | None
    aspect: Aspect | None
    opened_on: date


def parse_finding(
    *,
    kind: str | None,
    label: str | None,
    body_site_code: str | None,
    laterality: str | None,
    aspect: str | None,
    opened_on: str | None,
    today: date,
) -> FindingRequest:
    """Form or JSON fields as a request, or ``InvalidInput`` naming each bad field."""
    errors: dict[str, str] = {}
    parsed_kind = _choice(FindingKind, kind, "kind", errors)
    parsed_aspect = _choice(Aspect, aspect, "aspect", errors) if aspect else None
    site = None
    try:
        site = body_site(body_site_code or "")
    except ValueError as error:
        errors["body_site"] = str(error)
    side = None
    try:
        side = parse_laterality(laterality)
    except ValueError as error:
        errors["laterality"] = str(error)
    if site is not None and "laterality" not in errors:
        try:
            side = site.laterality_for(side)
        except ValueError as error:
            errors["laterality"] = str(error)
    opened = today
    if opened_on:
        try:
            opened = date.fromisoformat(opened_on.strip())
        except ValueError:
            errors["opened_on"] = "not a date (YYYY-MM-DD)"
        if opened > today:
            errors["opened_on"] = "a finding cannot be opened in the future"
    if errors or parsed_kind is None or site is None:
        raise InvalidInput(
            "The finding could not be saved: " + "; ".join(errors.values()), errors=errors
        )
    return FindingRequest(parsed_kind, label, site, side, parsed_aspect, opened)


def parse_closed_on(raw: str | None, *, today: date) -> date:
    """The day a finding closes, as a form or JSON gives it (today when empty)."""
    if not (raw or "").strip():
        return today
    try:
        closed = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput(
            "The finding was not closed: not a date (YYYY-MM-DD).",
            errors={"closed_on": "not a date (YYYY-MM-DD)"},
        ) from None
    if closed > today:
        raise InvalidInput(
            "The finding was not closed: it cannot close in the future.",
            errors={"closed_on": "in the future"},
        )
    return closed


def _choice(
    kind: type[_Choice], raw: str | None, name: str, errors: dict[str, str]
) -> _Choice | None:
    try:
        return kind((raw or "").strip())
    except ValueError:
        errors[name] = f"{name} must be one of {', '.join(k.value for k in kind)}"
        return None


def open_finding(
    db: Database, actor: audit.Actor, patient: Patient, request: FindingRequest, *, user_id: int
) -> Finding:
    """A new finding of ``patient``; ``Conflict`` when the label is taken."""
    with db.write() as session:
        label = request.label or next_label(request.kind, _labels(session, patient))
        try:
            details = FindingDetails(
                kind=request.kind,
                label=label,
                body_site=request.body_site,
                laterality=request.laterality,
                aspect=request.aspect,
                opened_on=request.opened_on,
            )
        except ValueError as error:
            raise InvalidInput(f"The finding could not be saved: {error}.") from error
        finding = Finding(
            patient_id=patient.id,
            tracking_uid=new_uid(),
            kind=details.kind.value,
            label=details.label,
            body_site_code=details.body_site.snomed_id,
            laterality=details.laterality.value if details.laterality else "U",
            aspect=details.aspect.value if details.aspect else None,
            opened_on=details.opened_on,
            created_by_id=user_id,
        )
        session.add(finding)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(
                f"This patient already has a finding labelled {details.label!r}."
            ) from None
        audit.record(session, _event(actor, patient, finding, "opened"))
        session.expunge(finding)
        return finding


def close_finding(
    db: Database, actor: audit.Actor, patient: Patient, finding_id: int, closed_on: date
) -> Finding:
    with db.write() as session:
        finding = _finding(session, patient, finding_id)
        if finding.closed_on is not None:
            raise Conflict(f"{finding.label} was already closed on {finding.closed_on}.")
        if closed_on < finding.opened_on:
            raise InvalidInput(
                "A finding cannot be closed before it was opened.",
                errors={"closed_on": "before the day it was opened"},
            )
        finding.closed_on = closed_on
        audit.record(session, _event(actor, patient, finding, "closed"))
        session.flush()
        session.expunge(finding)
        return finding


def patient_findings(session: Session, patient: Patient) -> list[tuple[Finding, int]]:
    """The patient's findings, open ones first, each with its count of visible photos."""
    photos = (
        select(func.count(Instance.id))
        .where(Instance.finding_id == Finding.id, not_rejected())
        .scalar_subquery()
    )
    rows = session.execute(
        select(Finding, photos)
        .where(Finding.patient_id == patient.id)
        .order_by(Finding.closed_on.is_not(None), Finding.opened_on.desc(), Finding.id.desc())
    ).all()
    return [(finding, count) for finding, count in rows]


def get_finding(session: Session, patient: Patient, finding_id: int) -> Finding:
    return _finding(session, patient, finding_id)


def link_photo(
    db: Database,
    actor: audit.Actor,
    patient: Patient,
    finding_id: int | None,
    sop_instance_uid: str,
) -> None:
    """Link a photo of ``patient`` to one of their findings (``None``: unlink it)."""
    with db.write() as session:
        photo = patient_photo(session, patient, sop_instance_uid)
        finding = _finding(session, patient, finding_id) if finding_id is not None else None
        photo.finding_id = finding.id if finding else None
        audit.record(
            session,
            audit.AuditEvent(
                action=audit.AuditAction.FINDING_CHANGED,
                actor=actor,
                patient=audit.PatientRef.of(patient),
                objects=(photo.sop_instance_uid,),
                details={
                    "change": "photo linked" if finding else "photo unlinked",
                    "finding_id": finding_id,
                },
            ),
        )


def measurements_follow(session: Session, copies: dict[int, int]) -> None:
    """In a correction's transaction: the measurements of each original photo (by id) now
    belong to its corrected copy of the same patient (``{original: copy}``), so that the
    finding's trend keeps them. Their reports still reference the photo they were traced on,
    whose pixels the copy repeats."""
    for original_id, copy_id in copies.items():
        session.execute(
            update(WoundMeasurement)
            .where(WoundMeasurement.photo_id == original_id)
            .values(photo_id=copy_id)
        )


def reports_on(session: Session, photos: Sequence[Instance]) -> list[Instance]:
    """The measurement reports in force traced on ``photos``: what is rejected with them when
    they leave the patient's record (filed under the wrong patient, or of too poor a quality to
    measure), so that no measurement of one patient's wound stays in another's record."""
    by_photo = reports_by_photo(session, photos)
    every = (report for reports in by_photo.values() for report in reports)
    return sorted(every, key=attrgetter("id"))


def reports_by_photo(session: Session, photos: Sequence[Instance]) -> dict[int, list[Instance]]:
    """Each photo's measurement reports in force, by the photo's id, oldest first: what goes
    with the photo wherever it goes whole (a DICOM export, a rejection)."""
    rows = session.execute(
        select(WoundMeasurement.photo_id, Instance)
        .join(WoundMeasurement, WoundMeasurement.report_id == Instance.id)
        .where(WoundMeasurement.photo_id.in_([photo.id for photo in photos]), not_rejected())
        .options(
            joinedload(Instance.study), joinedload(Instance.series), joinedload(Instance.patient)
        )
        .order_by(Instance.id)
    )
    by_photo: dict[int, list[Instance]] = {}
    for photo_id, report in rows:
        by_photo.setdefault(photo_id, []).append(report)
    return by_photo


def finding_to_file_under(
    session: Session, patient: Patient, finding_id: int, *, must_be_open: bool = True
) -> Finding:
    """The finding a new photo of ``patient`` is filed under: one of theirs and, unless a
    correction carries an original's link over, still open. ``InvalidInput`` (422, field
    ``finding``) otherwise: the photo is not stored."""
    finding = session.get(Finding, finding_id)
    if finding is None or finding.patient_id != patient.id:
        problem = "not one of this patient's wounds or lesions"
    elif must_be_open and finding.closed_on is not None:
        problem = f"{finding.label} was closed on {finding.closed_on.isoformat()}"
    else:
        return finding
    raise InvalidInput(
        f"The photo was not stored: the finding chosen is {problem}.",
        errors={"finding": problem},
    )


@dataclass(frozen=True, slots=True)
class FindingChoice:
    """An open finding as a capture form offers it."""

    id: int
    label: str
    """"Wound 1", "Lesion 3"."""
    description: str
    """"pressure injury, sacrum"."""

    @property
    def text(self) -> str:
        return f"{self.label}: {self.description}"


def open_findings(session: Session, patient: Patient) -> list[FindingChoice]:
    """The patient's open findings, as a capture form offers them (label order)."""
    return [
        FindingChoice(
            finding.id,
            finding.label,
            f"{FindingKind(finding.kind).label.lower()}, "
            f"{site_with_side(finding.body_site_code, finding.laterality, finding.aspect).lower()}",
        )
        for finding in session.scalars(
            select(Finding)
            .where(Finding.patient_id == patient.id, Finding.closed_on.is_(None))
            .order_by(Finding.label)
        )
    ]


def patient_photo(session: Session, patient: Patient, sop_instance_uid: str) -> Instance:
    """One of the patient's photos still in the record, or ``NotFound``."""
    if not _UID.fullmatch(sop_instance_uid.strip()):
        raise NotFound("This patient has no photo with that SOP Instance UID.")
    photo = session.scalar(
        select(Instance).where(
            Instance.sop_instance_uid == sop_instance_uid.strip(),
            Instance.patient_id == patient.id,
            not_rejected(),
        )
    )
    if photo is None:
        raise NotFound("This patient has no photo with that SOP Instance UID.")
    return photo


def _finding(session: Session, patient: Patient, finding_id: int) -> Finding:
    # Beyond a 32-bit key no row can match (and PostgreSQL would refuse the number).
    finding = session.get(Finding, finding_id) if 0 < finding_id < 2**31 else None
    if finding is None or finding.patient_id != patient.id:
        raise NotFound("This patient has no such finding.")
    return finding


def _labels(session: Session, patient: Patient) -> list[str]:
    return list(session.scalars(select(Finding.label).where(Finding.patient_id == patient.id)))


def _event(actor: audit.Actor, patient: Patient, finding: Finding, change: str) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.FINDING_CHANGED,
        actor=actor,
        patient=audit.PatientRef.of(patient),
        objects=(finding.tracking_uid,),
        details={"change": change, "finding_id": finding.id, "kind": finding.kind},
    )
