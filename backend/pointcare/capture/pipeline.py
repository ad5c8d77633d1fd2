"""The one stored-object pipeline: every object Pointcare stores is written by ``store``.

Photos, documents, rejection notes (and what comes later) differ in how they are built; how they
are stored does not. In this order, so that a failure at any step leaves no file and no row:

1. a thumbnail, if the object has one, is written durably before the transaction (its fsyncs stay
   out of the time the write lock is held);
2. one write transaction files the object (study, series, consent record), hands out its
   instance number, builds the DICOM object and writes it durably, inserts the index row, queues
   its delivery when a PACS is the archive, runs what the caller adds (``within``), and appends
   the audit event that names what was stored.

If anything fails the files are removed and the transaction rolls back, except when only the
COMMIT went unanswered: then the files stay and the row is looked for (``capture.commit``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydicom.dataset import FileDataset
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.archive import outbox
from pointcare.archive.files import FileStore
from pointcare.capture import filing
from pointcare.capture.commit import settle, written_files
from pointcare.db.engine import CommitOutcomeUnknown, Database
from pointcare.db.models import ConsentRecord, Instance, Patient, Series, Study
from pointcare.db.types import utcnow
from pointcare.dicom.modules import SeriesContext, StudyContext
from pointcare.dicom.part10 import encode_part10
from pointcare.dicom.uids import new_uid
from pointcare.domain.clock import TakenAt, offset_minutes
from pointcare.domain.consent import Consent, ConsentAnswers, ConsentNotGiven
from pointcare.domain.objects import ObjectKind
from pointcare.domain.patients import PatientIdentity
from pointcare.errors import Conflict, ConsentRequired
from pointcare.identity.directory import identity_of

log = logging.getLogger(__name__)

STORED_ACTIONS = {
    ObjectKind.PHOTO: audit.AuditAction.PHOTO_STORED,
    ObjectKind.DOCUMENT: audit.AuditAction.DOCUMENT_STORED,
    ObjectKind.REJECTION_NOTE: audit.AuditAction.REJECTION_NOTE_STORED,
    ObjectKind.DERMOSCOPY: audit.AuditAction.DERMOSCOPY_STORED,
    ObjectKind.VIDEO: audit.AuditAction.VIDEO_STORED,
    ObjectKind.MEASUREMENT_REPORT: audit.AuditAction.MEASUREMENT_REPORT_STORED,
}
"""The audit action that says what was stored, for each kind of object."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where a new object is filed and what it is called there: what its builder needs."""

    patient: PatientIdentity
    study: StudyContext
    series: SeriesContext
    sop_instance_uid: str
    instance_number: int
    consent: Consent | None
    """The consent an image is stored under (its reuse scopes go into the object)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewObject:
    """An object ready to store: what it is, for whom, where it goes, how it is built."""

    kind: ObjectKind
    sop_class_uid: str
    transfer_syntax_uid: str
    patient_id: int
    operator_id: int
    taken: TakenAt
    place: filing.Place
    build: Callable[[Placement], FileDataset] | None
    """Makes the object where it is placed; None for an object received whole (``part10``)."""
    capture_id: str | None = None
    content_sha256: str | None = None
    description: str = ""
    thumbnail: bytes | None = None
    columns: Mapping[str, Any] = field(default_factory=dict)
    """The index columns of this kind of object (a photo's site, side, size...)."""
    consent: ConsentAnswers | None = None
    """For images: the consent asked with this capture, recorded for its session."""
    consent_record_id: int | None = None
    """For images: the consent already recorded (a bedside session's)."""
    audit_details: Mapping[str, str | int | bool | None] = field(default_factory=dict)
    part10: bytes | None = None
    """An object received from another system (``intake``), stored byte for byte under the UIDs
    and instance number it names, instead of one built here."""
    sop_instance_uid: str | None = None
    """With ``part10``: the SOP Instance UID it arrived with."""
    instance_number: int | None = None
    """With ``part10``: the Instance Number it arrived with."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """An object in the archive, as its store (or a retry of it) answers."""

    kind: ObjectKind
    instance_id: int
    capture_id: str | None
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    stored_at: datetime
    created: bool
    """False when it was stored before (a retry with the same capture_id, or a duplicate)."""
    duplicate: bool = False
    """True when the same file was already stored for this patient: this is that object."""


def stored_of(instance: Instance, *, created: bool, duplicate: bool = False) -> Stored:
    return Stored(
        kind=instance.object_kind,
        instance_id=instance.id,
        capture_id=instance.capture_id,
        study_instance_uid=instance.study.study_instance_uid,
        series_instance_uid=instance.series.series_instance_uid,
        sop_instance_uid=instance.sop_instance_uid,
        stored_at=instance.created_at,
        created=created,
        duplicate=duplicate,
    )


class ObjectStore:
    """Writes new objects: file, index row, outbox entry and audit event, atomically."""

    def __init__(
        self,
        db: Database,
        files: FileStore,
        *,
        uid_root: str,
        deliver_to_pacs: bool,
    ) -> None:
        self.db = db
        self.files = files
        self.uid_root = uid_root
        self.deliver_to_pacs = deliver_to_pacs
        """Queue each stored object in the delivery outbox, in the same transaction."""

    def store(
        self,
        new: NewObject,
        actor: audit.Actor,
        *,
        within: Callable[[Session, list[Instance]], None] | None = None,
    ) -> Stored:
        """Store ``new``; ``within`` adds the caller's own writes to the same transaction."""
        [stored] = self.store_together([new], actor, within=within)
        return stored

    def store_together(
        self,
        news: Sequence[NewObject],
        actor: audit.Actor,
        *,
        within: Callable[[Session, list[Instance]], None] | None = None,
    ) -> list[Stored]:
        """Store every object of ``news`` in one transaction: all of them, or none."""
        sop_uids = [new.sop_instance_uid or new_uid(self.uid_root) for new in news]
        try:
            stored = self._write(news, sop_uids, actor, within)
        except CommitOutcomeUnknown:
            stored = settle(
                self.db,
                lambda session: _all_by_sop_uid(session, sop_uids),
                what=" and ".join(dict.fromkeys(new.kind.label for new in news)),
                key=f"sop={','.join(sop_uids)}",
            )
        for new, sop_uid in zip(news, sop_uids, strict=True):
            log.info(
                "%s stored sop=%s capture_id=%s patient_id=%s user_id=%s",
                new.kind.value,
                sop_uid,
                new.capture_id,
                new.patient_id,
                new.operator_id,
            )
        return stored

    def _write(
        self,
        news: Sequence[NewObject],
        sop_uids: Sequence[str],
        actor: audit.Actor,
        within: Callable[[Session, list[Instance]], None] | None,
    ) -> list[Stored]:
        with written_files(self.files) as written:
            thumbnails: list[str | None] = []
            for new, sop_uid in zip(news, sop_uids, strict=True):
                thumbnail = None
                if new.thumbnail is not None:
                    thumbnail = self.files.thumbnail_path(sop_uid)
                    self.files.write(thumbnail, new.thumbnail)
                    written.append(thumbnail)
                thumbnails.append(thumbnail)
            with self.db.write() as session:
                instances = [
                    self._file(session, new, sop_uid, thumbnail, actor, written)
                    for new, sop_uid, thumbnail in zip(news, sop_uids, thumbnails, strict=True)
                ]
                if within is not None:
                    within(session, instances)
                return [stored_of(instance, created=True) for instance in instances]

    def _file(
        self,
        session: Session,
        new: NewObject,
        sop_uid: str,
        thumbnail_path: str | None,
        actor: audit.Actor,
        written: list[str],
    ) -> Instance:
        """File, build, write and index one object, in the caller's transaction."""
        patient = session.get_one(Patient, new.patient_id)
        study, series = new.place(session, patient, self.uid_root)
        consent = _consent(session, patient, series, new)
        number = filing.next_instance_number(session, series)  # counted in its series
        if new.part10 is not None:  # received whole: kept as it came, under its own number
            number = new.instance_number or number
            content: bytes | list[bytes] = new.part10
        elif new.build is not None:
            placement = Placement(
                patient=identity_of(patient),
                study=filing.study_context(study),
                series=filing.series_context(series),
                sop_instance_uid=sop_uid,
                instance_number=number,
                consent=_consent_of(consent),
            )
            content = encode_part10(new.build(placement))
        else:  # pragma: no cover - a programming error
            raise ValueError("a new object is either built here or received whole")
        path = self.files.object_path(study.study_instance_uid, series.series_instance_uid, sop_uid)
        stored_file = self.files.write(path, content)
        written.append(path)
        instance = Instance(
            sop_instance_uid=sop_uid,
            sop_class_uid=new.sop_class_uid,
            kind=new.kind.value,
            capture_id=new.capture_id,
            patient_id=patient.id,
            study_id=study.id,
            series_id=series.id,
            instance_number=number,
            description=new.description,
            captured_at=new.taken.moment,
            captured_tz_offset_minutes=offset_minutes(new.taken.moment),
            captured_at_source=new.taken.source.value,
            operator_id=new.operator_id,
            storage_path=stored_file.relative_path,
            size_bytes=stored_file.size,
            sha256=stored_file.sha256,
            content_sha256=new.content_sha256,
            transfer_syntax_uid=new.transfer_syntax_uid,
            thumbnail_path=thumbnail_path,
            consent_id=consent.id if consent is not None else None,
            **new.columns,
        )
        instance.patient, instance.study, instance.series = patient, study, series
        session.add(instance)
        session.flush()
        if self.deliver_to_pacs:
            outbox.enqueue(session, instance.id, utcnow())
        audit.record(session, _stored_event(actor, patient, study, new, sop_uid))
        return instance


def _consent(
    session: Session, patient: Patient, series: Series, new: NewObject
) -> ConsentRecord | None:
    """The consent record an image refers to: the one given, or one recorded for its session
    from the answers asked with it. Never assumed: an image without either is refused."""
    if not new.kind.is_image:
        return None
    if new.consent_record_id is not None:
        record = session.get(ConsentRecord, new.consent_record_id)
        if record is None or record.patient_id != patient.id:
            raise Conflict("The consent record does not belong to this patient.")
    elif new.consent is not None:
        record = filing.find_or_create_consent(
            session,
            patient,
            new.consent,
            session_key=series.series_key,
            recorded_by_id=new.operator_id,
        )
    else:
        raise ConsentRequired("Ask the patient's consent before storing a photo.")
    if not record.clinical_record:
        raise ConsentRequired(
            "The patient declined photographs for the clinical record, so this photo cannot "
            "be stored."
        )
    return record


def _consent_of(record: ConsentRecord | None) -> Consent | None:
    if record is None:
        return None
    try:
        return filing.answers_of(record).for_capture()
    except ConsentNotGiven as exc:  # pragma: no cover - refused by _consent above
        raise ConsentRequired(str(exc)) from None


def _all_by_sop_uid(session: Session, sop_uids: Sequence[str]) -> list[Stored] | None:
    """The objects of one transaction, when all of them are stored (the transaction landed)."""
    found = {
        instance.sop_instance_uid: instance
        for instance in session.scalars(
            select(Instance).where(Instance.sop_instance_uid.in_(list(sop_uids)))
        )
    }
    if len(found) != len(sop_uids):
        return None
    return [stored_of(found[uid], created=True) for uid in sop_uids]


def _stored_event(
    actor: audit.Actor, patient: Patient, study: Study, new: NewObject, sop_uid: str
) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=STORED_ACTIONS[new.kind],
        actor=actor,
        patient=audit.PatientRef.of(patient),
        objects=(sop_uid,),
        details={
            "study_instance_uid": study.study_instance_uid,
            "capture_id": new.capture_id,
            **new.audit_details,
        },
    )
