"""Carry out a capture command, whichever way in built it.

1. A repeated ``capture_id`` answers with the object already stored (same patient only).
2. The patient is found as the user confirmed them, and the session may open them (an EHR-bound
   session: its patient, or one it searched for); a finding the photo is filed under is one of
   theirs, still open.
3. The same file already stored for this patient is answered with that object, unless the
   command says it means a new one.
4. The content is checked and prepared for its kind, off the database lock (a clip converted
   in its own bounded process, see ``capture.clips``); only the image work takes one of the
   ``image_slots`` (a request waiting for the database or the disk leaves
   the cores to the others).
5. The one pipeline (``capture.pipeline``) stores it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture import documents, photos
from pointcare.capture.clips import ClipIntake, clip_picture
from pointcare.capture.command import CaptureCommand, ConfirmedPatient, Source
from pointcare.capture.fields import CLOCK_SKEW, EARLIEST_PHOTO_YEAR
from pointcare.capture.pipeline import NewObject, ObjectStore, Stored, stored_of
from pointcare.capture.rejections import image_refused
from pointcare.corrections.visibility import not_rejected
from pointcare.db.engine import Database
from pointcare.db.models import Instance, Patient
from pointcare.domain.clock import TakenAt, TakenAtSource
from pointcare.domain.objects import ObjectKind
from pointcare.errors import Conflict, InvalidInput
from pointcare.findings import service as findings
from pointcare.identity.directory import find_by_mrn
from pointcare.imaging.exif import moment_taken
from pointcare.imaging.photo import PhotoRejected, normalise_photo
from pointcare.launch.binding import check_may_open
from pointcare.metrics import timed_ingest

FILING_ATTEMPTS = 3
"""Tries to file an object when concurrent uploads race to create its study, then its series."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureLimits:
    max_image_pixels: int
    jpeg_quality: int
    institution_name: str


class CaptureService:
    def __init__(
        self,
        objects: ObjectStore,
        limits: CaptureLimits,
        *,
        clips: ClipIntake,
        image_slots: threading.Semaphore | None = None,
    ) -> None:
        self.objects = objects
        self.limits = limits
        self.clips = clips
        """Converts video clips, a bounded number at a time."""
        self.image_slots = image_slots or threading.BoundedSemaphore(os.cpu_count() or 2)
        """Bounds concurrent decoding (CPU and memory: a 12 MP decode is 36 MB) to the cores."""

    @property
    def db(self) -> Database:
        return self.objects.db

    def capture(
        self,
        who: Principal,
        command: CaptureCommand,
        content: bytes,
        *,
        actor: audit.Actor | None = None,
    ) -> Stored:
        """Store ``content`` as ``command`` says; ``actor`` (who, from where) goes into the
        audit trail (default: ``who``, no address)."""
        with timed_ingest(command.kind.value):
            return self._capture(who, command, content, actor)

    def _capture(
        self, who: Principal, command: CaptureCommand, content: bytes, actor: audit.Actor | None
    ) -> Stored:
        if not content:
            raise InvalidInput("The file is empty.", errors={"file": "the file is empty"})
        content_sha256 = hashlib.sha256(content).hexdigest()
        with self.db.session() as session:
            earlier = _stored_before(session, command)
            if earlier is not None:
                return earlier
            patient = patient_for(session, who, command.patient)
            if command.finding_id is not None:
                findings.finding_to_file_under(
                    session,
                    patient,
                    command.finding_id,
                    must_be_open=command.source is not Source.CORRECTION,
                )
            if not command.allow_duplicate:
                duplicate = same_file(session, patient, content_sha256)
                if duplicate is not None:
                    return stored_of(duplicate, created=False, duplicate=True)
            patient_id = patient.id
        new = self._prepare(who, command, content, patient_id, content_sha256)
        for attempt in range(1, FILING_ATTEMPTS + 1):
            try:
                return self.objects.store(new, actor or audit.Actor.of(who))
            except IntegrityError:
                # Another request with the same capture_id won the race: answer with its object.
                # Or (PostgreSQL, where writers do not queue as on SQLite) a concurrent upload of
                # the same session created the study or series first: filing again finds it.
                with self.db.session() as session:
                    earlier = _stored_before(session, command)
                if earlier is not None:
                    return earlier
                if attempt == FILING_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare(
        self,
        who: Principal,
        command: CaptureCommand,
        content: bytes,
        patient_id: int,
        content_sha256: str,
    ) -> NewObject:
        if command.kind is ObjectKind.DOCUMENT:
            command = replace(command, taken=command.taken or _arrived())
            return documents.prepare(
                who, command, content, patient_id, content_sha256, self.limits.institution_name
            )
        if command.kind is ObjectKind.PHOTO:
            try:
                with self.image_slots:
                    photo = normalise_photo(
                        content,
                        max_pixels=self.limits.max_image_pixels,
                        quality=self.limits.jpeg_quality,
                    )
            except PhotoRejected as exc:
                raise image_refused(exc, "file") from None
            recorded = partial(photo_moment, content)
            command = replace(command, taken=taken_at(command.taken, recorded))
            picture = photos.photo_picture(photo, command.tags.view if command.tags else None)
        elif command.kind is ObjectKind.VIDEO:
            # Converted in its own process, within the clip limits (``capture.clips``).
            clip = self.clips.normalise(content)
            picture = clip_picture(clip)
            recorded = partial(recorded_moment, clip.recorded_at)
            command = replace(command, taken=taken_at(command.taken, recorded))
        else:
            raise InvalidInput(f"A {command.kind.label} cannot be captured.")
        return photos.prepare(
            who, command, picture, patient_id, content_sha256, self.limits.institution_name
        )


def _arrived() -> TakenAt:
    """Now, at the server's offset: when nothing else says when it was made."""
    return TakenAt(datetime.now().astimezone(), TakenAtSource.SERVER)


def taken_at(given: TakenAt | None, recorded: Callable[[], TakenAt | None]) -> TakenAt:
    """When a photo or clip was taken: the moment the client saw it taken (the in-page camera,
    an app's own clock, a date the user typed) as given; else the moment the file itself
    records (``recorded``, read only when needed: ``photo_moment``, ``recorded_moment``); else
    the file's date the client sent; else the moment it arrives."""
    if given is not None and given.source is not TakenAtSource.FILE:
        return given
    return recorded() or given or _arrived()


def photo_moment(photo: bytes) -> TakenAt | None:
    """The moment the photo records (EXIF DateTimeOriginal, at its OffsetTimeOriginal or,
    without one, at the hospital's local time of that date), when it is a plausible one."""
    moment = moment_taken(photo)
    if moment is None:
        return None
    if moment.offset_minutes is None:
        aware = moment.local.astimezone()  # the hospital's local time on that date
    else:
        aware = moment.local.replace(tzinfo=timezone(timedelta(minutes=moment.offset_minutes)))
    return recorded_moment(aware)


def recorded_moment(aware: datetime | None) -> TakenAt | None:
    """A moment a file records of itself (a photo's EXIF, a clip's container), when it records
    one and it is plausible: not ahead of now, not before digital cameras."""
    if aware is None:
        return None
    now = datetime.now().astimezone()
    if aware > now + CLOCK_SKEW or aware.year < EARLIEST_PHOTO_YEAR:
        return None
    return TakenAt(aware, TakenAtSource.PHOTO)


def _stored_before(session: Session, command: CaptureCommand) -> Stored | None:
    instance = session.scalar(
        select(Instance)
        .where(Instance.capture_id == command.capture_id)
        .options(joinedload(Instance.patient), joinedload(Instance.study))
    )
    if instance is None:
        return None
    wanted = command.patient
    stored_for = instance.patient
    if stored_for.mrn.upper() != wanted.mrn.strip().upper() or (
        wanted.issuer is not None and stored_for.issuer != wanted.issuer.strip()
    ):
        raise Conflict(
            f"This capture_id was already used for a {instance.object_kind.label} of another "
            "patient; a retry must send the same patient."
        )
    return stored_of(instance, created=False)


def patient_for(session: Session, who: Principal, confirmed: ConfirmedPatient) -> Patient:
    """The patient as the user confirmed them, when this session may open them."""
    patient = find_by_mrn(session, confirmed.mrn, confirmed.issuer)
    if patient is None:
        raise InvalidInput(
            f"No patient with MRN {confirmed.mrn!r} is known; "
            "check the wristband or search by name.",
            errors={"patient_id": "unknown patient"},
        )
    check_may_open(session, who, patient)
    return patient


def same_file(session: Session, patient: Patient, content_sha256: str) -> Instance | None:
    """The object already stored for this patient from the very same file, if any."""
    return session.scalar(
        select(Instance)
        .where(
            Instance.patient_id == patient.id,
            Instance.content_sha256 == content_sha256,
            not_rejected(),
        )
        .options(joinedload(Instance.study), joinedload(Instance.series))
        .order_by(Instance.id)
        .limit(1)
    )
