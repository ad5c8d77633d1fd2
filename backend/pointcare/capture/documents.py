"""Documents from the desk: a PDF becomes an Encapsulated PDF object in the patient's record.

Filed like photos (the session's study, a "Documents" series beside its photos), written the
same durable way (file fsync'd before the row commits; removed if the transaction fails),
queued for the PACS in the same transaction, audited in it. A repeated ``capture_id`` answers
with the document already stored.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import __version__, audit
from pointcare.archive import outbox
from pointcare.auth.principal import Principal
from pointcare.capture import filing
from pointcare.capture.commit import settle, written_files
from pointcare.db.engine import CommitOutcomeUnknown
from pointcare.db.models import Document, Patient, Study
from pointcare.db.types import utcnow
from pointcare.dicom.modules import Equipment, to_part10
from pointcare.dicom.pdf import (
    DocumentDetails,
    NotAPdf,
    build_encapsulated_pdf,
    check_pdf,
)
from pointcare.dicom.uids import new_uid
from pointcare.errors import Conflict, InvalidInput
from pointcare.identity.directory import find_by_mrn, identity_of
from pointcare.runtime import Runtime

log = logging.getLogger(__name__)

MAX_TITLE = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRequest:
    patient_mrn: str
    issuer: str | None
    title: str
    capture_id: str
    session_id: str | None
    captured_at: datetime
    """When it was added (a document has no capture moment of its own)."""

    @classmethod
    def parse(
        cls,
        *,
        patient_mrn: str,
        issuer: str | None,
        title: str,
        capture_id: str,
        session_id: str | None,
        now: datetime,
    ) -> DocumentRequest:
        errors: dict[str, str] = {}
        clean_title = " ".join(title.split())
        if not clean_title:
            errors["title"] = "give the document a title, such as 'Consent form'"
        elif len(clean_title) > MAX_TITLE or "\\" in clean_title:
            errors["title"] = f"a title has at most {MAX_TITLE} characters and no backslash"
        ids: dict[str, str | None] = {}
        for name, raw in (("capture_id", capture_id), ("session_id", session_id)):
            try:
                ids[name] = str(uuid.UUID(raw.strip())) if raw and raw.strip() else None
            except ValueError:
                errors[name] = f"{name} must be a UUID"
        if ids.get("capture_id") is None and "capture_id" not in errors:
            errors["capture_id"] = "capture_id is required (a UUID made per file)"
        if not patient_mrn.strip():
            errors["patient_id"] = "patient_id is required"
        if errors:
            raise InvalidInput("The document was not stored.", errors=errors)
        return cls(
            patient_mrn=patient_mrn.strip(),
            issuer=(issuer or "").strip() or None,
            title=clean_title,
            capture_id=str(ids["capture_id"]),
            session_id=ids.get("session_id"),
            captured_at=now,
        )


@dataclass(frozen=True, slots=True)
class StoredDocument:
    capture_id: str
    study_instance_uid: str
    sop_instance_uid: str
    created: bool


def store_document(
    runtime: Runtime, who: Principal, actor: audit.Actor, request: DocumentRequest, pdf: bytes
) -> StoredDocument:
    try:
        check_pdf(pdf)
    except NotAPdf as exc:
        raise InvalidInput(str(exc), errors={"file": str(exc)}) from None
    with runtime.db.session() as session:
        existing = _stored_before(session, request)
        if existing is not None:
            return existing
    try:
        result = _write(runtime, who, actor, request, pdf)
    except CommitOutcomeUnknown:
        found = settle(
            runtime.db,
            lambda session: _stored_before(session, request),
            what="document",
            key=f"capture_id={request.capture_id}",
        )
        return replace(found, created=True)
    log.info(
        "document stored capture_id=%s sop=%s user_id=%s bytes=%d",
        request.capture_id,
        result.sop_instance_uid,
        who.user_id,
        len(pdf),
    )
    return result


def _write(
    runtime: Runtime, who: Principal, actor: audit.Actor, request: DocumentRequest, pdf: bytes
) -> StoredDocument:
    with written_files(runtime.files) as written, runtime.db.write() as session:
        patient = find_by_mrn(session, request.patient_mrn, request.issuer)
        if patient is None:
            raise InvalidInput(
                f"No patient with MRN {request.patient_mrn!r} is known.",
                errors={"patient_id": "unknown patient"},
            )
        uid_root = runtime.settings.uid_root
        study = filing.find_or_create_study(session, patient, request, uid_root=uid_root)
        series = filing.find_or_create_series(
            session,
            study,
            patient,
            request,
            operator_id=who.user_id,
            uid_root=uid_root,
            documents=True,
        )
        number = filing.next_instance_number(session, series)
        sop_uid = new_uid(uid_root)
        dataset = build_encapsulated_pdf(
            pdf=pdf,
            patient=identity_of(patient),
            study=filing.study_context(study),
            series=filing.series_context(series),
            details=DocumentDetails(
                sop_instance_uid=sop_uid,
                instance_number=number,
                title=request.title,
                created_at=request.captured_at,
            ),
            equipment=Equipment(
                software_versions=__version__,
                institution_name=runtime.settings.institution_name,
            ),
        )
        path = runtime.files.object_path(
            study.study_instance_uid, series.series_instance_uid, sop_uid
        )
        stored = runtime.files.write(path, to_part10(dataset))
        written.append(path)
        document = Document(
            sop_instance_uid=sop_uid,
            capture_id=request.capture_id,
            patient_id=patient.id,
            study_id=study.id,
            series_id=series.id,
            instance_number=number,
            title=request.title,
            pdf_bytes=len(pdf),
            storage_path=stored.relative_path,
            size_bytes=stored.size,
            sha256=stored.sha256,
            added_by_id=who.user_id,
        )
        session.add(document)
        session.flush()
        if runtime.settings.delivers_to_pacs:
            outbox.enqueue(session, None, utcnow(), document_id=document.id)
        audit.record(session, _stored_event(actor, patient, study.study_instance_uid, sop_uid))
        return StoredDocument(request.capture_id, study.study_instance_uid, sop_uid, True)


def _stored_before(session: Session, request: DocumentRequest) -> StoredDocument | None:
    document = session.scalar(select(Document).where(Document.capture_id == request.capture_id))
    if document is None:
        return None
    patient = session.get_one(Patient, document.patient_id)
    if patient.mrn != request.patient_mrn:
        raise Conflict("This capture_id was already used for another patient's document.")
    return StoredDocument(
        document.capture_id,
        session.get_one(Study, document.study_id).study_instance_uid,
        document.sop_instance_uid,
        False,
    )


def _stored_event(
    actor: audit.Actor, patient: Patient, study_uid: str, sop_uid: str
) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.PHOTO_STORED,
        actor=actor,
        patient=audit.PatientRef.of(patient),
        objects=(sop_uid,),
        details={"study_instance_uid": study_uid, "kind": "document"},
    )
