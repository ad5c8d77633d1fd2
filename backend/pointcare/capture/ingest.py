"""Ingest: a checked photo request becomes a DICOM object in the built-in archive.

Order of work, so that a failure at any step leaves no file and no row behind:
1. everything that can be refused is checked before anything is written (patient, fields,
   the image itself: decoded, oriented, stripped, converted off the database lock);
2. the thumbnail is written durably, then one write transaction files the photo (study,
   series, consent), builds the DICOM object, writes it durably, and inserts the index row
   (and, when a PACS is the archive, the photo's delivery in the outbox); if anything fails the
   files are removed and the transaction rolls back, except when only the COMMIT went
   unanswered: then the files stay and the row is looked for (``capture.commit``).
Only the image work (step 1's decoding) takes one of the ``image_slots``: a request waiting for
the database or the disk leaves the cores to the others.
A repeated ``capture_id`` answers with the photo already stored and stores nothing new.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace

from pydicom.dataset import FileDataset
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pointcare import __version__, audit
from pointcare.archive import outbox
from pointcare.archive.files import FileStore, StoredFile
from pointcare.auth.principal import Principal
from pointcare.capture import filing
from pointcare.capture.commit import settle, written_files
from pointcare.capture.rejections import image_refused
from pointcare.capture.submission import PhotoRequest
from pointcare.db.engine import CommitOutcomeUnknown, Database
from pointcare.db.models import ConsentRecord, Instance, Patient, Series, Study
from pointcare.db.types import utcnow
from pointcare.dicom.modules import Equipment
from pointcare.dicom.part10 import encode_part10
from pointcare.dicom.photo import (
    JPEG_BASELINE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    PhotoDetails,
    build_vl_photographic_image,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.clock import offset_minutes
from pointcare.errors import Conflict, InvalidInput
from pointcare.identity.directory import find_by_mrn, identity_of
from pointcare.imaging.photo import NormalisedPhoto, PhotoRejected, normalise_photo

log = logging.getLogger(__name__)

FILING_ATTEMPTS = 3
"""Tries to file a photo when concurrent uploads race to create its study, then its series."""


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    capture_id: str
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    created: bool
    """False when the capture_id had been stored before (a retry)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestLimits:
    max_image_pixels: int
    jpeg_quality: int
    uid_root: str
    institution_name: str


class PhotoIngest:
    def __init__(
        self,
        db: Database,
        files: FileStore,
        limits: IngestLimits,
        *,
        deliver_to_pacs: bool = False,
        image_slots: threading.Semaphore | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.limits = limits
        self.deliver_to_pacs = deliver_to_pacs
        """Queue each stored photo in the delivery outbox, in the same transaction."""
        self.image_slots = image_slots or threading.BoundedSemaphore(os.cpu_count() or 2)
        """Bounds concurrent decoding (CPU and memory: a 12 MP decode is 36 MB) to the cores."""

    def store(
        self,
        who: Principal,
        request: PhotoRequest,
        image: bytes,
        *,
        actor: audit.Actor | None = None,
    ) -> StoredPhoto:
        """Store the photo; ``actor`` (who, from where) goes into the audit trail, which gets
        the event in the same transaction as the photo's rows (default: ``who``, no address)."""
        with self.db.session() as session:
            existing = _stored_before(session, request)
            if existing is not None:
                return existing
            patient = _patient(session, request)
            patient_id = patient.id
        photo = self._normalise(image)
        attempt = 1
        while True:
            try:
                return self._file(who, request, patient_id, photo, actor or audit.Actor.of(who))
            except IntegrityError:
                # Another request with the same capture_id won the race: answer with its photo.
                # Or (PostgreSQL, where writers do not queue as on SQLite) a concurrent upload of
                # the same session created the study or series first: filing again finds it.
                with self.db.session() as session:
                    existing = _stored_before(session, request)
                if existing is not None:
                    return existing
                if attempt >= FILING_ATTEMPTS:
                    raise
                attempt += 1

    def _normalise(self, image: bytes) -> NormalisedPhoto:
        if not image:
            raise InvalidInput("The file is empty.", errors={"file": "the file is empty"})
        try:
            with self.image_slots:
                return normalise_photo(
                    image,
                    max_pixels=self.limits.max_image_pixels,
                    quality=self.limits.jpeg_quality,
                )
        except PhotoRejected as exc:
            raise image_refused(exc, "file") from None

    def _file(
        self,
        who: Principal,
        request: PhotoRequest,
        patient_id: int,
        photo: NormalisedPhoto,
        actor: audit.Actor,
    ) -> StoredPhoto:
        try:
            return self._write(who, request, patient_id, photo, actor)
        except CommitOutcomeUnknown:
            found = settle(
                self.db,
                lambda session: _stored_before(session, request),
                what="photo",
                key=f"capture_id={request.capture_id}",
            )
            return replace(found, created=True)

    def _write(
        self,
        who: Principal,
        request: PhotoRequest,
        patient_id: int,
        photo: NormalisedPhoto,
        actor: audit.Actor,
    ) -> StoredPhoto:
        with written_files(self.files) as written:
            # The thumbnail depends on nothing the transaction decides: written (durably) before
            # it, it keeps its fsyncs out of the time the write lock is held.
            sop_uid = new_uid(self.limits.uid_root)
            thumbnail_path = self.files.thumbnail_path(sop_uid)
            self.files.write(thumbnail_path, photo.thumbnail)
            written.append(thumbnail_path)
            with self.db.write() as session:
                patient = session.get_one(Patient, patient_id)
                study = filing.find_or_create_study(
                    session, patient, request, uid_root=self.limits.uid_root
                )
                series = filing.find_or_create_series(
                    session,
                    study,
                    patient,
                    request,
                    operator_id=who.user_id,
                    uid_root=self.limits.uid_root,
                )
                consent = filing.find_or_create_consent(
                    session,
                    patient,
                    request,
                    session_key=series.series_key,
                    recorded_by_id=who.user_id,
                )
                number = filing.next_instance_number(session, series)
                dataset = self._photo_object(
                    who, request, photo, patient, study, series, sop_uid=sop_uid, number=number
                )
                object_path = self.files.object_path(
                    study.study_instance_uid, series.series_instance_uid, sop_uid
                )
                stored = self.files.write(object_path, encode_part10(dataset))
                written.append(object_path)
                instance = _index_row(
                    who,
                    request,
                    photo,
                    (patient, study, series, consent),
                    sop_uid=sop_uid,
                    number=number,
                    stored=stored,
                    thumbnail_path=thumbnail_path,
                )
                session.add(instance)
                session.flush()
                if self.deliver_to_pacs:
                    outbox.enqueue(session, instance.id, utcnow())
                audit.record(session, _stored_event(actor, patient, study, request, sop_uid))
                result = StoredPhoto(
                    request.capture_id,
                    study.study_instance_uid,
                    series.series_instance_uid,
                    sop_uid,
                    True,
                )
        log.info(
            "photo stored capture_id=%s sop=%s patient_id=%s user_id=%s reencoded=%s",
            request.capture_id,
            result.sop_instance_uid,
            patient_id,
            who.user_id,
            photo.reencoded,
        )
        return result

    def _photo_object(
        self,
        who: Principal,
        request: PhotoRequest,
        photo: NormalisedPhoto,
        patient: Patient,
        study: Study,
        series: Series,
        *,
        sop_uid: str,
        number: int,
    ) -> FileDataset:
        """The VL Photographic Image for this photo, filed in its study and series."""
        return build_vl_photographic_image(
            photo=photo,
            patient=identity_of(patient),
            study=filing.study_context(study),
            series=filing.series_context(series),
            details=PhotoDetails(
                sop_instance_uid=sop_uid,
                instance_number=number,
                body_site=request.site,
                laterality=request.laterality,
                view=request.view,
                description=request.description,
                operator_name=who.dicom_name,
                captured_at=request.captured_at,
                consent=request.consent,
                recognizable=request.recognizable,
                sensitive=request.sensitive,
            ),
            equipment=Equipment(
                software_versions=__version__, institution_name=self.limits.institution_name
            ),
        )


def _index_row(
    who: Principal,
    request: PhotoRequest,
    photo: NormalisedPhoto,
    filed: tuple[Patient, Study, Series, ConsentRecord],
    *,
    sop_uid: str,
    number: int,
    stored: StoredFile,
    thumbnail_path: str,
) -> Instance:
    """The index row that makes a stored object searchable."""
    patient, study, series, consent = filed
    return Instance(
        sop_instance_uid=sop_uid,
        sop_class_uid=VL_PHOTOGRAPHIC_IMAGE_STORAGE,
        capture_id=request.capture_id,
        patient_id=patient.id,
        study_id=study.id,
        series_id=series.id,
        instance_number=number,
        body_site_code=request.site.snomed_id,
        laterality=request.laterality.value,
        view=request.view.value if request.view else None,
        description=request.description,
        sensitive=request.sensitive,
        recognizable=request.recognizable,
        consent_id=consent.id,
        captured_at=request.captured_at,
        captured_tz_offset_minutes=offset_minutes(request.captured_at),
        operator_id=who.user_id,
        storage_path=stored.relative_path,
        thumbnail_path=thumbnail_path,
        size_bytes=stored.size,
        sha256=stored.sha256,
        rows=photo.rows,
        columns=photo.columns,
        transfer_syntax_uid=JPEG_BASELINE,
        source_format=photo.source_format,
        reencoded=photo.reencoded,
    )


def _stored_event(
    actor: audit.Actor, patient: Patient, study: Study, request: PhotoRequest, sop_uid: str
) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.PHOTO_STORED,
        actor=actor,
        patient=audit.PatientRef.of(patient),
        objects=(sop_uid,),
        details={
            "study_instance_uid": study.study_instance_uid,
            "capture_id": request.capture_id,
            "sensitive": request.sensitive,
        },
    )


def _stored_before(session: Session, request: PhotoRequest) -> StoredPhoto | None:
    instance = session.scalar(select(Instance).where(Instance.capture_id == request.capture_id))
    if instance is None:
        return None
    if instance.patient.mrn != request.patient_mrn or (
        request.issuer is not None and instance.patient.issuer != request.issuer
    ):
        raise Conflict(
            "This capture_id was already used for a photo of another patient; "
            "a retry must send the same patient."
        )
    return StoredPhoto(
        instance.capture_id,
        instance.study.study_instance_uid,
        instance.series.series_instance_uid,
        instance.sop_instance_uid,
        False,
    )


def _patient(session: Session, request: PhotoRequest) -> Patient:
    patient = find_by_mrn(session, request.patient_mrn, request.issuer)
    if patient is None:
        raise InvalidInput(
            f"No patient with MRN {request.patient_mrn!r} is known; "
            "check the wristband or search by name.",
            errors={"patient_id": "unknown patient"},
        )
    return patient
