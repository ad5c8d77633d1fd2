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

from pydicom.dataset import FileDataset
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare import __version__, audit
from pointcare.archive.reader import ref_of
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.capture import filing
from pointcare.capture.command import CaptureCommand, ConfirmedPatient, ImageTags, Source
from pointcare.capture.pipeline import NewObject, Placement, Stored
from pointcare.consent.changes import consent_in_force, history
from pointcare.corrections.visibility import IMAGE_KINDS
from pointcare.db.models import ConsentRecord, Instance, Patient, RejectionNote
from pointcare.db.types import utcnow
from pointcare.dicom.modules import Equipment
from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.dicom.rejection_note import (
    KEY_OBJECT_SELECTION_DOCUMENT,
    RejectedImage,
    RejectionNoteContent,
    RejectionReason,
    build_rejection_note,
)
from pointcare.dicom.video import stored_clip
from pointcare.domain.body_sites import Aspect, BodySite, Laterality, body_site
from pointcare.domain.clock import TakenAt, TakenAtSource, at_offset
from pointcare.domain.consent import ConsentAnswers, ConsentMethod
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View
from pointcare.errors import Conflict, Forbidden, InvalidInput
from pointcare.findings import service as findings
from pointcare.launch.binding import check_may_open
from pointcare.runtime import Runtime

log = logging.getLogger(__name__)

MIN_REASON = 5
MAX_REASON = 500
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
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
    aspect: Aspect | None = None
    """A new face of the site; None keeps the original's while the site still offers it."""
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
    copies: list[Stored]
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
            .where(
                Instance.sop_instance_uid.in_(wanted),
                Instance.patient_id == patient.id,
                Instance.kind.in_(IMAGE_KINDS),
            )
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
            .where(
                Instance.series_id == instance.series_id,
                Instance.kind.in_(IMAGE_KINDS),
                Instance.rejected_at.is_(None),
            )
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
        if correction.target is not None:  # the right patient: one this session may open
            check_may_open(session, who, session.get_one(Patient, correction.target.id))
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
        if correction.kind is not CorrectionKind.DETAILS:
            # A photo leaving the record takes the measurements traced on it along: rejected
            # by the same note, after the photos (whose copies follow them in order).
            originals += findings.reports_on(session, originals)
        session.expunge_all()
    copies = [
        runtime.capture.capture(
            _operator_of(original), command, _pixels(runtime, original), actor=actor
        )
        for original, command in to_copy
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


def _pixels(runtime: Runtime, original: Instance) -> bytes:
    """What the corrected copy is made from: the original's own JPEG, or a clip's MP4 (a
    conformant stream, so the copy keeps it packet for packet)."""
    source = runtime.instances.part10(ref_of(original), original.storage_path)
    if original.object_kind is ObjectKind.VIDEO:
        return stored_clip(source)
    return first_jpeg_frame(source)


def _operator_of(original: Instance) -> Principal:
    """The photographer of the original: the copy keeps who took the photo."""
    return Principal(
        user_id=original.operator_id,
        username=original.operator.username,
        display_name=original.operator.display_name,
        role=Role(original.operator.role),
    )


def _copy_request(session: Session, original: Instance, correction: Correction) -> CaptureCommand:
    """The original's record with the correction applied, for the right patient."""
    target = correction.target or original.patient
    changes = correction.details
    site = changes.site or body_site(original.body_site_code or "")
    requested = changes.laterality
    if requested is None and site.paired and original.laterality not in (None, "U"):
        requested = Laterality(original.laterality)
    try:
        laterality = site.laterality_for(requested if site.paired else None)
    except ValueError as exc:
        raise InvalidInput(
            "The correction was not made.", errors={"laterality": str(exc)}
        ) from None
    aspect = _aspect_of_copy(original, site, changes.aspect)
    view = (
        changes.view
        if changes.view is not None
        else (View(original.view) if original.view else None)
    )
    return CaptureCommand(
        # A dermoscopic image is taken as a photo with the dermoscopic view, as it first was.
        kind=ObjectKind.VIDEO if original.object_kind is ObjectKind.VIDEO else ObjectKind.PHOTO,
        source=Source.CORRECTION,
        patient=ConfirmedPatient(mrn=target.mrn, issuer=target.issuer),
        capture_id=str(
            uuid.uuid5(TOKEN_NAMESPACE, f"{correction.token}:{original.sop_instance_uid}")
        ),
        session_id=correction.token,
        taken=TakenAt(original.taken_at, TakenAtSource(original.captured_at_source)),
        consent=_consent_now(session, original),
        tags=ImageTags(
            site=site,
            laterality=laterality,
            aspect=aspect,
            view=view,
            description=(
                changes.description if changes.description is not None else original.description
            ),
            sensitive=original.sensitive,
            recognizable=original.recognizable,
        ),
        # Same patient, same pixels: the copy stays under the original's wound or lesion.
        finding_id=original.finding_id if correction.target is None else None,
        allow_duplicate=True,  # the same picture again, on purpose
    )


def _aspect_of_copy(original: Instance, site: BodySite, asked: Aspect | None) -> Aspect | None:
    """The aspect asked for; else the original's, unless the corrected site has no such face."""
    if asked is not None:
        try:
            return site.aspect_for(asked)
        except ValueError as exc:
            raise InvalidInput(
                "The correction was not made.", errors={"aspect": str(exc)}
            ) from None
    kept = Aspect(original.aspect) if original.aspect else None
    return kept if kept in site.aspects else None


def _consent_now(session: Session, original: Instance) -> ConsentAnswers:
    """The consent in force for the original, which the copy carries: a change recorded since
    capture is not lost by the correction."""
    now = consent_in_force(session, [original])[original.id]
    method = ConsentMethod(original.consent_record.method)
    if method is ConsentMethod.BEST_INTERESTS and (now.teaching or now.publication):
        # Consent for reuse was given later, by the patient: say how, as the change recorded it.
        granted = next(c for c in history(session, original.patient, original) if c.granted)
        method = ConsentMethod(granted.method)
    return ConsentAnswers(
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
    copies: list[Stored],
    correction: Correction,
) -> list[str]:
    """One transaction: a rejection note per study (stored by the one pipeline), the
    originals marked rejected by it, each copy linked to the photo it replaces."""
    now = utcnow()
    groups = [
        list(group)
        for _study, group in groupby(
            sorted(originals, key=lambda o: (o.study_id, o.id)), key=lambda o: o.study_id
        )
    ]
    notes = [_note(runtime, who, members, correction, now) for members in groups]

    def mark(session: Session, stored: list[Instance]) -> None:
        rows = {
            row.id: row
            for row in session.scalars(
                select(Instance).where(Instance.id.in_([o.id for o in originals])).with_for_update()
            )
        }
        if any(row.rejected_at is not None for row in rows.values()):
            raise Conflict("A chosen photo was already corrected or rejected.")
        for note, members in zip(stored, groups, strict=True):
            session.add(
                RejectionNote(
                    instance_id=note.id,
                    reason_code=correction.kind.reason.value,
                    kind=correction.kind.value,
                    reason_text=correction.reason_text.strip(),
                    created_by_id=who.user_id,
                    created_at=now,
                )
            )
            for original in members:
                rows[original.id].rejected_at = now
                rows[original.id].rejected_by_id = note.id
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
        if correction.target is None:
            # The same pixels: measurements traced on the original hold for its copy.
            findings.measurements_follow(
                session,
                {
                    original.id: copy_rows[copy.sop_instance_uid].id
                    for original, copy in zip(originals, copies, strict=False)
                },
            )
        audit.record(
            session,
            _event(actor, originals, copies, [n.sop_instance_uid for n in stored], correction),
        )

    stored = runtime.objects.store_together(notes, actor, within=mark)
    return [note.sop_instance_uid for note in stored]


def _note(
    runtime: Runtime,
    who: Principal,
    members: list[Instance],
    correction: Correction,
    now: datetime,
) -> NewObject:
    """The rejection note of one study's rejected photos, ready for the pipeline."""
    first = members[0]
    created = at_offset(now, first.captured_tz_offset_minutes)
    description = f"{correction.kind.value}: {correction.reason_text.strip()}"[:500]
    images = [
        RejectedImage(m.series.series_instance_uid, m.sop_class_uid, m.sop_instance_uid)
        for m in members
    ]
    equipment = Equipment(
        software_versions=__version__, institution_name=runtime.settings.institution_name
    )

    def build(placement: Placement) -> FileDataset:
        return build_rejection_note(
            RejectionNoteContent(
                reason=correction.kind.reason,
                patient=placement.patient,
                study=placement.study,
                images=images,
                series_instance_uid=placement.series.series_instance_uid,
                sop_instance_uid=placement.sop_instance_uid,
                created_at=created,
                description=description,
                equipment=equipment,
            )
        )

    return NewObject(
        kind=ObjectKind.REJECTION_NOTE,
        sop_class_uid=KEY_OBJECT_SELECTION_DOCUMENT,
        transfer_syntax_uid=EXPLICIT_VR_LITTLE_ENDIAN,
        patient_id=first.patient_id,
        operator_id=who.user_id,
        taken=TakenAt(created, TakenAtSource.SERVER),
        place=filing.in_study(
            first.study_id,
            filing.SeriesPurpose.REJECTION,
            key=f"{correction.token}:{first.study_id}",
            number=filing.REJECTION_SERIES_NUMBER,
        ),
        build=build,
        description=correction.reason_text.strip(),
        audit_details={"correction": correction.kind.value},
    )


def _event(
    actor: audit.Actor,
    originals: list[Instance],
    copies: list[Stored],
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
