"""Open, find, consent to and end bedside capture sessions.

Functions take a synchronous SQLAlchemy ``Session`` and never commit: the caller's transaction
(``Database.write()``) decides. A session is found only by the user who opened it, while it is
open and younger than the sign-in lifetime: any other id answers ``NotFound``, so that a session
id seen in a log or over a shoulder opens nothing.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pointcare.auth.principal import Principal
from pointcare.capture.filing import answers_of
from pointcare.capture.filing import record_consent as new_consent_record
from pointcare.corrections.visibility import IMAGE_KINDS, images_in_force
from pointcare.db.models import BedsideSession, ConsentRecord, Instance, Patient, Series
from pointcare.db.types import utcnow
from pointcare.domain.body_sites import site_with_side
from pointcare.domain.consent import DECLINED, ConsentAnswers
from pointcare.errors import Conflict, ConsentRequired, InvalidInput, NotFound

log = logging.getLogger(__name__)
T = TypeVar("T")

GONE = (
    "This bedside session is not open (it ended, timed out, or belongs to someone else). "
    "Scan the wristband to start again."
)
CHANGED = (
    "The patient's details changed after the confirmation card was shown. Check them again "
    "and confirm."
)
NOT_CONFIRMED = "Confirm the patient on the confirmation card first."
NO_CONSENT_YET = "Record the patient's consent before taking photos."
CONSENT_IN_USE = (
    "Photos were already stored with the consent recorded for this session. To record "
    "different consent, end this session and start a new one."
)
RECENT_SITES = 6
"""How many of the patient's recent body sites the capture screen offers as one-tap choices."""
_RECENT_WINDOW = 200
"""Recent photos looked at for distinct sites: enough for six, cheap to read."""


def confirmation_key(patient: Patient) -> str:
    """A digest of the identity the confirmation card shows (name, birth date, sex, MRN).

    The card sends it back with "This is the patient": a session opens only for exactly the
    identity the user saw, never for a record that was changed (or merged) in between.
    """
    shown = "\x1f".join(
        [
            str(patient.id),
            patient.mrn,
            patient.issuer,
            patient.family_name,
            patient.given_name,
            patient.birth_date.isoformat() if patient.birth_date else "",
            patient.sex,
        ]
    )
    return hashlib.sha256(shown.encode()).hexdigest()[:32]


def series_key(session_id: str) -> str:
    """The series (and, without a visit, the study) the session's photos are filed in.

    Must match ``capture.filing.series_key`` for a request whose ``session_id`` is this id."""
    return f"session:{session_id}"


def open_session(
    db: Session,
    principal: Principal,
    patient: Patient,
    *,
    confirmation: str,
    now: datetime | None = None,
) -> BedsideSession:
    """Record that ``principal`` confirmed ``patient``; ``confirmation`` is the card's key."""
    if not confirmation.strip():
        raise InvalidInput(NOT_CONFIRMED, errors={"confirmation": "missing"})
    if patient.merged_into_id is not None or confirmation.strip() != confirmation_key(patient):
        raise Conflict(CHANGED, errors={"confirmation": "does not match the patient"})
    record = BedsideSession(
        id=str(uuid.uuid4()),
        user_id=principal.user_id,
        patient_id=patient.id,
        encounter=patient.visit_number,
        started_at=now or utcnow(),
    )
    db.add(record)
    db.flush()
    log.info(
        "bedside session opened id=%s patient_id=%s user_id=%s",
        record.id,
        patient.id,
        principal.user_id,
    )
    return record


def load_session(
    db: Session,
    session_id: str,
    principal: Principal,
    *,
    max_age: timedelta,
    now: datetime | None = None,
) -> BedsideSession:
    """The open session ``session_id`` of this user; ``NotFound`` for anything else."""
    try:
        key = str(uuid.UUID(session_id.strip()))
    except ValueError:
        raise NotFound(GONE) from None
    record = db.get(BedsideSession, key)
    moment = now or utcnow()
    if (
        record is None
        or record.user_id != principal.user_id
        or record.ended_at is not None
        or moment - record.started_at >= max_age
    ):
        raise NotFound(GONE)
    return record


def consent_answers(record: BedsideSession) -> ConsentAnswers | None:
    """The consent recorded for the session, or None before the consent step."""
    return answers_of(record.consent) if record.consent is not None else None


def capture_consent(record: BedsideSession) -> tuple[ConsentRecord, ConsentAnswers]:
    """The consent record photos are taken under, and its answers; ``ConsentRequired`` before
    the consent step or when the clinical record was declined."""
    answers = consent_answers(record)
    if record.consent is None or answers is None:
        raise ConsentRequired(NO_CONSENT_YET)
    if answers.declined:
        raise ConsentRequired(DECLINED)
    return record.consent, answers


def record_consent(
    db: Session,
    record: BedsideSession,
    principal: Principal,
    answers: ConsentAnswers,
) -> None:
    """Record (or, before any photo was stored, correct) the session's consent: a consent
    record of its own, which every photo of the session will refer to."""
    if photo_count(db, record) and answers != consent_answers(record):
        raise Conflict(CONSENT_IN_USE)
    consent = new_consent_record(
        db,
        record.patient,
        answers,
        session_key=series_key(record.id),
        recorded_by_id=principal.user_id,
    )
    record.consent_id = consent.id
    record.consent = consent
    db.flush()
    log.info(
        "bedside consent recorded session=%s consent_id=%s clinical=%s teaching=%s "
        "publication=%s method=%s",
        record.id,
        consent.id,
        answers.clinical_record,
        answers.teaching,
        answers.publication,
        answers.method.value,
    )


def end_session(db: Session, record: BedsideSession, *, now: datetime | None = None) -> None:
    record.ended_at = now or utcnow()
    db.flush()
    log.info("bedside session ended id=%s", record.id)


def _in_session(query: Select[T], record: BedsideSession) -> Select[T]:
    """``query`` over instances, narrowed to the images (photos, clips) filed in the session's
    series."""
    return query.join(Series, Instance.series_id == Series.id).where(
        Series.series_key == series_key(record.id), Instance.kind.in_(IMAGE_KINDS)
    )


def photo_count(db: Session, record: BedsideSession) -> int:
    return int(db.scalar(_in_session(select(func.count(Instance.id)), record)) or 0)


def stored_photos(db: Session, record: BedsideSession) -> list[Instance]:
    """The photos stored in this session, in the order they were taken."""
    query = _in_session(select(Instance), record).order_by(Instance.instance_number)
    return list(db.scalars(query))


@dataclass(frozen=True, slots=True)
class RecentSite:
    """Where one of the patient's recent photos was taken: site, side and face."""

    code: str
    laterality: str
    aspect: str

    @property
    def label(self) -> str:
        return site_with_side(self.code, self.laterality, self.aspect)


def recent_sites(db: Session, patient_id: int, *, limit: int = RECENT_SITES) -> list[RecentSite]:
    """The patient's most recently photographed distinct places (site, side and face), newest
    first."""
    rows = db.execute(
        select(Instance.body_site_code, Instance.laterality, Instance.aspect)
        .where(
            Instance.patient_id == patient_id,
            Instance.body_site_code.is_not(None),
            images_in_force(),
        )
        .order_by(Instance.captured_at.desc(), Instance.id.desc())
        .limit(_RECENT_WINDOW)
    )
    places = (RecentSite(code or "", side or "U", aspect or "") for code, side, aspect in rows)
    return [place for place in dict.fromkeys(places) if place.code][:limit]
