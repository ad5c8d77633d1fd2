"""Where a stored object is filed: its study (per encounter, session or day) and its series.

Both are found or created inside the storing transaction, keyed by a deterministic string with a
unique index, so concurrent uploads for one patient land in one study and one series. Photos of a
capture session share a series; the documents added with them have a series of their own beside
it; a rejection note has a series of its own in the study of the objects it rejects, and a
measurement report one in the study of the photo it measures.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from pointcare.db.models import Base, ConsentRecord, Patient, Series, Study
from pointcare.dicom.modules import SeriesContext, StudyContext
from pointcare.dicom.uids import new_uid
from pointcare.domain.clock import at_offset, offset_minutes
from pointcare.domain.consent import ConsentAnswers, ConsentMethod

STUDY_DESCRIPTION = "Clinical photography"
REJECTION_SERIES_NUMBER = 9999
"""Rejection notes stand apart from the photos' series, at the end of their study."""


class SeriesPurpose(StrEnum):
    """What a series holds: its description, and the prefix of its key."""

    PHOTOS = "Bedside capture"
    DOCUMENTS = "Documents"
    REJECTION = "Rejection note"
    MEASUREMENTS = "Wound measurements"

    @property
    def key_prefix(self) -> str:
        return {
            "Bedside capture": "",
            "Documents": "documents:",
            "Rejection note": "rejection:",
            "Wound measurements": "measurements:",
        }[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class Filing:
    """Where a new object of a capture goes: decided by its session and when it was made."""

    session_id: str | None
    captured_at: datetime
    operator_id: int
    purpose: SeriesPurpose = SeriesPurpose.PHOTOS


Place = Callable[[Session, Patient, str], tuple[Study, Series]]
"""Finds (or creates) the study and series a new object goes in (given the UID root)."""


def in_session(filing: Filing) -> Place:
    """Where a capture's object goes: the study and series of its session (``Filing``)."""
    return partial(_file_in_session, filing)


def in_study(
    study_id: int, purpose: SeriesPurpose, *, key: str, number: int | None = None
) -> Place:
    """Where an object about objects already stored goes: their study (by id), in the series
    ``purpose`` + ``key`` (numbered ``number``, else after the study's others)."""
    return partial(_file_in_study, study_id, purpose, key, number)


def _file_in_study(
    study_id: int,
    purpose: SeriesPurpose,
    key: str,
    number: int | None,
    session: Session,
    patient: Patient,
    uid_root: str,
) -> tuple[Study, Series]:
    study = session.get_one(Study, study_id)
    if study.patient_id != patient.id:
        raise ValueError(f"study {study_id} is not the patient's: the object cannot go there")
    series = find_or_create_series(
        session, study, purpose.key_prefix + key, purpose=purpose, uid_root=uid_root, number=number
    )
    return study, series


def _file_in_session(
    filing: Filing, session: Session, patient: Patient, uid_root: str
) -> tuple[Study, Series]:
    return file_in_session(session, patient, filing, uid_root=uid_root)


def study_key(patient: Patient, filing: Filing) -> str:
    if patient.visit_number:
        return f"visit:{patient.id}:{patient.visit_number}"
    if filing.session_id:
        return f"session:{filing.session_id}"
    return f"day:{patient.id}:{filing.captured_at.date().isoformat()}"


def series_key(patient: Patient, filing: Filing) -> str:
    if filing.session_id:
        key = f"session:{filing.session_id}"
    else:
        key = f"day:{patient.id}:{filing.operator_id}:{filing.captured_at.date().isoformat()}"
    return filing.purpose.key_prefix + key


def file_in_session(
    session: Session, patient: Patient, filing: Filing, *, uid_root: str
) -> tuple[Study, Series]:
    """The study and series a capture's object goes in, created when they do not exist yet."""
    study = _find_or_create_study(session, patient, filing, uid_root=uid_root)
    series = find_or_create_series(
        session,
        study,
        series_key(patient, filing),
        purpose=filing.purpose,
        uid_root=uid_root,
    )
    return study, series


def _find_or_create_study(
    session: Session, patient: Patient, filing: Filing, *, uid_root: str
) -> Study:
    key = study_key(patient, filing)
    study = session.scalar(select(Study).where(Study.study_key == key))
    if study is not None:
        return study
    study = Study(
        study_instance_uid=new_uid(uid_root),
        study_key=key,
        patient_id=patient.id,
        visit_number=patient.visit_number,
        study_id=f"PC{filing.captured_at:%y%m%d}{secrets.token_hex(3).upper()}",
        study_datetime=filing.captured_at,
        study_tz_offset_minutes=offset_minutes(filing.captured_at),
        description=STUDY_DESCRIPTION,
    )
    session.add(study)
    session.flush()
    return study


def find_or_create_series(
    session: Session,
    study: Study,
    key: str,
    *,
    purpose: SeriesPurpose,
    uid_root: str,
    number: int | None = None,
) -> Series:
    """The series ``key`` of ``study``; a new one is numbered after the study's others (or
    ``number``)."""
    series = session.scalar(select(Series).where(Series.series_key == key))
    if series is not None:
        return series
    series = Series(
        series_instance_uid=new_uid(uid_root),
        series_key=key,
        study_id=study.id,
        series_number=number or _next_series_number(session, study),
        description=purpose.value,
        instance_count=0,
    )
    session.add(series)
    session.flush()
    return series


def _next_series_number(session: Session, study: Study) -> int:
    highest = session.scalar(
        select(Series.series_number)
        .where(Series.study_id == study.id, Series.series_number < REJECTION_SERIES_NUMBER)
        .order_by(Series.series_number.desc())
    )
    return (highest or 0) + 1


_SERIES_TABLE = Base.metadata.tables[Series.__tablename__]
_SERIES = _SERIES_TABLE.c
_NEXT_INSTANCE_NUMBER = (
    update(_SERIES_TABLE)
    .where(_SERIES.id == bindparam("series_id"))
    .values(instance_count=_SERIES.instance_count + 1)
    .returning(_SERIES.instance_count)
)
"""Built once, run as Core on the transaction's connection: every stored object runs it."""


def next_instance_number(session: Session, series: Series) -> int:
    """Hand out the next instance number atomically (the row is locked until commit)."""
    number = int(
        session.connection().execute(_NEXT_INSTANCE_NUMBER, {"series_id": series.id}).scalar_one()
    )
    set_committed_value(series, "instance_count", number)  # the session's copy stays true
    return number


def find_or_create_consent(
    session: Session,
    patient: Patient,
    answers: ConsentAnswers,
    *,
    session_key: str,
    recorded_by_id: int,
) -> ConsentRecord:
    """The consent record of a capture session with these answers: one record per session and
    set of answers, however many photos refer to it."""
    record = session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.patient_id == patient.id,
            ConsentRecord.session_key == session_key,
            ConsentRecord.clinical_record == answers.clinical_record,
            ConsentRecord.teaching == answers.teaching,
            ConsentRecord.publication == answers.publication,
            ConsentRecord.method == answers.method.value,
            ConsentRecord.recorded_by_id == recorded_by_id,
        )
    )
    if record is not None:
        return record
    return record_consent(
        session, patient, answers, session_key=session_key, recorded_by_id=recorded_by_id
    )


def record_consent(
    session: Session,
    patient: Patient,
    answers: ConsentAnswers,
    *,
    session_key: str,
    recorded_by_id: int,
) -> ConsentRecord:
    """A new consent record (a bedside session's consent step makes one each time)."""
    record = ConsentRecord(
        patient_id=patient.id,
        clinical_record=answers.clinical_record,
        teaching=answers.teaching,
        publication=answers.publication,
        method=answers.method.value,
        session_key=session_key,
        recorded_by_id=recorded_by_id,
    )
    session.add(record)
    session.flush()
    return record


def answers_of(record: ConsentRecord) -> ConsentAnswers:
    """The answers a consent record holds."""
    return ConsentAnswers(
        clinical_record=record.clinical_record,
        teaching=record.teaching,
        publication=record.publication,
        method=ConsentMethod(record.method),
    )


def study_context(study: Study) -> StudyContext:
    """What a DICOM object filed in ``study`` says of it (its time at the study's own offset)."""
    return StudyContext(
        study_instance_uid=study.study_instance_uid,
        study_datetime=at_offset(study.study_datetime, study.study_tz_offset_minutes),
        study_id=study.study_id,
        admission_id=study.visit_number,
        description=study.description,
    )


def series_context(series: Series) -> SeriesContext:
    return SeriesContext(
        series_instance_uid=series.series_instance_uid,
        series_number=series.series_number,
        description=series.description,
    )
