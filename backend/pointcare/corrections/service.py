"""Corrections: move to the right patient, fix details, or reject for quality.

Each correction is idempotent on its ``token`` (one per correction form): the corrected copies
get capture ids derived from it, so a retry after a failure finds the copies already stored
and stores nothing twice; the rejection happens once, in one transaction that writes the
rejection note (file, row, outbox entry), marks the originals rejected, links each copy to the
photo it replaces and appends the audit events.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare import __version__, audit
from pointcare.archive import outbox
from pointcare.archive.reader import ref_of
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.capture.commit import settle, written_files
from pointcare.capture.filing import study_context
from pointcare.capture.ingest import StoredPhoto
from pointcare.capture.submission import PhotoRequest
from pointcare.consent.changes import consent_in_force, history
from pointcare.db.engine import CommitOutcomeUnknown
from pointcare.db.models import ConsentRecord, Instance, Patient, RejectionNote
from pointcare.db.types import utcnow
from pointcare.dicom.modules import Equipment, to_part10
from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.dicom.rejection_note import (
    RejectedImage,
    RejectionNoteContent,
    RejectionReason,
    build_rejection_note,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.body_sites import BodySite, Laterality, body_site
from pointcare.domain.clock import at_offset
from pointcare.domain.consent import Consent, ConsentMethod
from pointcare.domain.views import View
from pointcare.errors import Conflict, Forbidden, InvalidInput
from pointcare.identity.directory import identity_of
from pointcare.runtime import Runtime

log = logging.getLogger(__name__)

MIN_REASON = 5
MAX_REASON = 500
TOKEN_NAMESPACE = uuid.UUID("3b0c6f2e-7d9a-4a51-9a8e-5f3f1c2d8b40")
"""Derives each corrected copy's capture id from the correction token and the original."""


class CorrectionKind(StrEnum):
    PATIENT = "patient"
    """Filed to the wrong patient: moved to the right one."""
    DETAILS = "details"
    """Wrong body site, side, view or description: corrected."""
    QUALITY = "quality"
    """Poor quality or a duplicate: rejected, no copy."""

    @property
    def reason(self) -> RejectionReason:
        if self is CorrectionKind.QUALITY:
            return RejectionReason.QUALITY
        return RejectionReason.PATIENT_SAFETY


@dataclass(frozen=True, slots=True)
class DetailChanges:
    """New tags for a details correction; ``None`` keeps the original's."""

    site: BodySite | None = None
    laterality: Laterality | None = None
    view: View | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Correction:
    kind: CorrectionKind
    reason_text: str
    token: str
    """One per correction form (a UUID): retries of the same correction store nothing twice."""
    target: Patient | None = None
    """For ``PATIENT``: the right patient, as the user confirmed it."""
    details: DetailChanges = field(default_factory=DetailChanges)

    def __post_init__(self) -> None:
        text = self.reason_text.strip()
        if len(text) < MIN_REASON:
            raise InvalidInput(
                "The correction was not made.",
                errors={"reason": "Say why, in a few words (it goes into the record)."},
            )
        if len(text) > MAX_REASON:
            raise InvalidInput(
                "The correction was not made.",
                errors={"reason": f"Keep the reason under {MAX_REASON} characters."},
            )
        try:
            uuid.UUID(self.token)
        except ValueError:
            raise InvalidInput(
                "The correction form has expired: open it again.", errors={"token": "expired"}
            ) from None
        if self.kind is CorrectionKind.PATIENT and self.target is None:
            raise InvalidInput(
                "The correction was not made.", errors={"target": "Choose the right patient."}
            )


@dataclass(frozen=True, slots=True)
class Corrected:
    rejected: list[str]
    """SOP Instance UIDs rejected."""
    copies: list[StoredPhoto]
    notes: list[str]
    """SOP Instance UIDs of the rejection notes."""


def load_originals(session: Session, patient: Patient, sop_uids: Sequence[str]) -> list[Instance]:
    """The photos to correct: the patient's own, in force, in capture order; 422 otherwise."""
    wanted = list(dict.fromkeys(uid for uid in sop_uids if uid))
    if not wanted:
        raise InvalidInput("Choose the photos to correct.", errors={"photos": "none chosen"})
    rows = list(
        session.scalars(
            select(Instance)
            .where(Instance.sop_instance_uid.in_(wanted), Instance.patient_id == patient.id)
            .options(
                joinedload(Instance.study),
                joinedload(Instance.series),
                joinedload(Instance.operator),
                joinedload(Instance.consent).joinedload(ConsentRecord.recorded_by),
                joinedload(Instance.patient),
            )
            .order_by(Instance.captured_at, Instance.id)
        ).unique()
    )
    if len(rows) != len(wanted):
        raise InvalidInput(
            "Some photos are not in this patient's record.", errors={"photos": "not found"}
        )
    if any(row.rejected_at is not None for row in rows):
        raise Conflict("A chosen photo was already corrected or rejected.")
    return rows


def series_of(session: Session, instance: Instance) -> list[str]:
    """Every photo in force in the same series (a bedside session) as ``instance``."""
    return list(
        session.scalars(
            select(Instance.sop_instance_uid)
            .where(Instance.series_id == instance.series_id, Instance.rejected_at.is_(None))
            .order_by(Instance.captured_at, Instance.id)
        )
    )


def correct(
    runtime: Runtime,
    who: Principal,
    actor: audit.Actor,
    patient: Patient,
    sop_uids: Sequence[str],
    correction: Correction,
) -> Corrected:
    """Carry out ``correction`` on the photos ``sop_uids`` of ``patient``."""
    if not who.role.can_review:
        raise Forbidden("Only clinicians and administrators can correct photos.")
    with runtime.db.session() as session:
        originals = load_originals(session, patient, sop_uids)
        if correction.target is not None and correction.target.id == patient.id:
            raise InvalidInput(
                "The correction was not made.",
                errors={"target": "That is the same patient: choose the right one."},
            )
        to_copy = (
            []
            if correction.kind is CorrectionKind.QUALITY
            else [
                (original, _copy_request(session, original, correction)) for original in originals
            ]
        )
        session.expunge_all()
    copies = [
        runtime.ingest.store(
            _operator_of(original),
            request,
            first_jpeg_frame(runtime.instances.part10(ref_of(original), original.storage_path)),
            actor=actor,
        )
        for original, request in to_copy
    ]
    notes = _reject(runtime, who, actor, originals, copies, correction)
    log.info(
        "correction kind=%s rejected=%d copies=%d user_id=%s",
        correction.kind.value,
        len(originals),
        len(copies),
        who.user_id,
    )
    return Corrected([o.sop_instance_uid for o in originals], copies, notes)


def _operator_of(original: Instance) -> Principal:
    """The photographer of the original: the copy keeps who took the photo."""
    return Principal(
        user_id=original.operator_id,
        username=original.operator.username,
        display_name=original.operator.display_name,
        role=Role(original.operator.role),
    )


def _copy_request(session: Session, original: Instance, correction: Correction) -> PhotoRequest:
    """The original's record with the correction applied, for the right patient."""
    target = correction.target or original.patient
    changes = correction.details
    site = changes.site or body_site(original.body_site_code)
    requested = changes.laterality
    if requested is None and site.paired and original.laterality != Laterality.UNPAIRED:
        requested = Laterality(original.laterality)
    try:
        laterality = site.laterality_for(requested if site.paired else None)
    except ValueError as exc:
        raise InvalidInput(
            "The correction was not made.", errors={"laterality": str(exc)}
        ) from None
    view = (
        changes.view
        if changes.view is not None
        else (View(original.view) if original.view else None)
    )
    return PhotoRequest(
        patient_mrn=target.mrn,
        issuer=target.issuer,
        site=site,
        laterality=laterality,
        view=view,
        description=(
            changes.description if changes.description is not None else original.description
        ),
        consent=_consent_now(session, original),
        sensitive=original.sensitive,
        recognizable=original.recognizable,
        capture_id=str(
            uuid.uuid5(TOKEN_NAMESPACE, f"{correction.token}:{original.sop_instance_uid}")
        ),
        captured_at=at_offset(original.captured_at, original.captured_tz_offset_minutes),
        session_id=correction.token,
    )


def _consent_now(session: Session, original: Instance) -> Consent:
    """The consent in force for the original, which the copy carries: a change recorded since
    capture is not lost by the correction."""
    now = consent_in_force(session, [original])[original.id]
    method = ConsentMethod(original.consent.method)
    if method is ConsentMethod.BEST_INTERESTS and (now.teaching or now.publication):
        # Consent for reuse was given later, by the patient: say how, as the change recorded it.
        granted = next(c for c in history(session, original.patient, original) if c.granted)
        method = ConsentMethod(granted.method)
    return Consent(
        clinical_record=now.clinical_record,
        teaching=now.teaching,
        publication=now.publication,
        method=method,
    )


def _reject(
    runtime: Runtime,
    who: Principal,
    actor: audit.Actor,
    originals: list[Instance],
    copies: list[StoredPhoto],
    correction: Correction,
) -> list[str]:
    """One transaction: a rejection note per study, the originals marked, copies linked."""
    now = utcnow()
    notes: list[str] = []
    try:
        with written_files(runtime.files) as written, runtime.db.write() as session:
            by_id = {
                row.id: row
                for row in session.scalars(
                    select(Instance)
                    .where(Instance.id.in_([o.id for o in originals]))
                    .with_for_update()
                )
            }
            if any(row.rejected_at is not None for row in by_id.values()):
                raise Conflict("A chosen photo was already corrected or rejected.")
            for _study, group in groupby(
                sorted(originals, key=lambda o: (o.study_id, o.id)), key=lambda o: o.study_id
            ):
                members = list(group)
                note = _store_note(runtime, session, who, members, correction, now, written)
                notes.append(note.sop_instance_uid)
                for original in members:
                    row = by_id[original.id]
                    row.rejected_at = now
                    row.rejection_note_id = note.id
            copy_rows = {
                row.sop_instance_uid: row
                for row in session.scalars(
                    select(Instance).where(
                        Instance.sop_instance_uid.in_([c.sop_instance_uid for c in copies])
                    )
                )
            }
            for original, copy in zip(originals, copies, strict=False):
                copy_rows[copy.sop_instance_uid].replaces_id = original.id
            audit.record(session, _event(actor, originals, copies, notes, correction))
    except CommitOutcomeUnknown:
        settle(
            runtime.db,
            lambda session: _rejected_by(session, notes),
            what="correction",
            key=f"notes={','.join(notes)}",
        )
    return notes


def _rejected_by(session: Session, notes: list[str]) -> bool | None:
    """True when every rejection note of the correction is stored (its transaction landed)."""
    found = session.scalars(
        select(RejectionNote.id).where(RejectionNote.sop_instance_uid.in_(notes))
    ).all()
    return True if notes and len(found) == len(notes) else None


def _store_note(
    runtime: Runtime,
    session: Session,
    who: Principal,
    members: list[Instance],
    correction: Correction,
    now: datetime,
    written: list[str],
) -> RejectionNote:
    first = members[0]
    uid_root = runtime.settings.uid_root
    content = RejectionNoteContent(
        reason=correction.kind.reason,
        patient=identity_of(first.patient),
        study=study_context(first.study),
        images=[
            RejectedImage(m.series.series_instance_uid, m.sop_class_uid, m.sop_instance_uid)
            for m in members
        ],
        series_instance_uid=new_uid(uid_root),
        sop_instance_uid=new_uid(uid_root),
        created_at=at_offset(now, first.captured_tz_offset_minutes),
        description=f"{correction.kind.value}: {correction.reason_text.strip()}"[:500],
        equipment=Equipment(
            software_versions=__version__, institution_name=runtime.settings.institution_name
        ),
    )
    path = runtime.files.object_path(
        content.study.study_instance_uid, content.series_instance_uid, content.sop_instance_uid
    )
    stored = runtime.files.write(path, to_part10(build_rejection_note(content)))
    written.append(path)
    note = RejectionNote(
        sop_instance_uid=content.sop_instance_uid,
        study_instance_uid=content.study.study_instance_uid,
        series_instance_uid=content.series_instance_uid,
        patient_id=first.patient_id,
        reason_code=correction.kind.reason.value,
        kind=correction.kind.value,
        reason_text=correction.reason_text.strip(),
        storage_path=stored.relative_path,
        size_bytes=stored.size,
        sha256=stored.sha256,
        created_by_id=who.user_id,
        created_at=now,
    )
    session.add(note)
    session.flush()
    if runtime.settings.delivers_to_pacs:
        outbox.enqueue(session, None, now, rejection_note_id=note.id)
    return note


def _event(
    actor: audit.Actor,
    originals: list[Instance],
    copies: list[StoredPhoto],
    notes: list[str],
    correction: Correction,
) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.CORRECTION,
        actor=actor,
        patient=audit.PatientRef.of(originals[0].patient),
        objects=tuple(o.sop_instance_uid for o in originals)
        + tuple(c.sop_instance_uid for c in copies)
        + tuple(notes),
        reason=correction.reason_text.strip(),
        details={
            "kind": correction.kind.value,
            "rejected": len(originals),
            "copies": len(copies),
            "target_mrn": correction.target.mrn if correction.target else None,
        },
    )
