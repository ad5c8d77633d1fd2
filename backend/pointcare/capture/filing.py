"""Where a photo is filed: its study (per encounter or session) and series (per session).

Both are found or created inside the ingest transaction, keyed by a deterministic string with a
unique index, so concurrent uploads for one patient land in one study and one series.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pointcare.capture.submission import PhotoRequest
from pointcare.db.models import ConsentRecord, Patient, Series, Study
from pointcare.dicom.modules import SeriesContext, StudyContext
from pointcare.dicom.uids import new_uid
from pointcare.domain.clock import at_offset, offset_minutes

STUDY_DESCRIPTION = "Clinical photography"
DOCUMENTS = "Documents"
"""Series description (and key prefix) of the documents filed with a session's photos."""


class Filed(Protocol):
    """What filing needs of a photo or a document: its session and when it was made."""

    @property
    def session_id(self) -> str | None: ...

    @property
    def captured_at(self) -> datetime: ...


def study_key(patient: Patient, request: Filed) -> str:
    if patient.visit_number:
        return f"visit:{patient.id}:{patient.visit_number}"
    if request.session_id:
        return f"session:{request.session_id}"
    return f"day:{patient.id}:{request.captured_at.date().isoformat()}"


def series_key(patient: Patient, request: Filed, operator_id: int) -> str:
    if request.session_id:
        return f"session:{request.session_id}"
    return f"day:{patient.id}:{operator_id}:{request.captured_at.date().isoformat()}"


def find_or_create_study(
    session: Session, patient: Patient, request: Filed, *, uid_root: str
) -> Study:
    key = study_key(patient, request)
    study = session.scalar(select(Study).where(Study.study_key == key))
    if study is not None:
        return study
    study = Study(
        study_instance_uid=new_uid(uid_root),
        study_key=key,
        patient_id=patient.id,
        visit_number=patient.visit_number,
        study_id=f"PC{request.captured_at:%y%m%d}{secrets.token_hex(3).upper()}",
        study_datetime=request.captured_at,
        study_tz_offset_minutes=offset_minutes(request.captured_at),
        description=STUDY_DESCRIPTION,
    )
    session.add(study)
    session.flush()
    return study


def find_or_create_series(
    session: Session,
    study: Study,
    patient: Patient,
    request: Filed,
    *,
    operator_id: int,
    uid_root: str,
    documents: bool = False,
) -> Series:
    """The session's series of photos, or with ``documents`` its series of documents."""
    key = series_key(patient, request, operator_id)
    if documents:
        key = f"{DOCUMENTS.lower()}:{key}"
    series = session.scalar(select(Series).where(Series.series_key == key))
    if series is not None:
        return series
    series = Series(
        series_instance_uid=new_uid(uid_root),
        series_key=key,
        study_id=study.id,
        series_number=_next_series_number(session, study),
        description=DOCUMENTS if documents else "Bedside capture",
        instance_count=0,
    )
    session.add(series)
    session.flush()
    return series


def _next_series_number(session: Session, study: Study) -> int:
    highest = session.scalar(
        select(Series.series_number)
        .where(Series.study_id == study.id)
        .order_by(Series.series_number.desc())
    )
    return (highest or 0) + 1


def next_instance_number(session: Session, series: Series) -> int:
    """Hand out the next instance number atomically (the row is locked until commit)."""
    number = session.execute(
        update(Series)
        .where(Series.id == series.id)
        .values(instance_count=Series.instance_count + 1)
        .returning(Series.instance_count)
    ).scalar_one()
    return int(number)


def find_or_create_consent(
    session: Session,
    patient: Patient,
    request: PhotoRequest,
    *,
    session_key: str,
    recorded_by_id: int,
) -> ConsentRecord:
    consent = request.consent
    record = session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.patient_id == patient.id,
            ConsentRecord.session_key == session_key,
            ConsentRecord.teaching == consent.teaching,
            ConsentRecord.publication == consent.publication,
            ConsentRecord.method == consent.method.value,
            ConsentRecord.recorded_by_id == recorded_by_id,
        )
    )
    if record is not None:
        return record
    record = ConsentRecord(
        patient_id=patient.id,
        clinical_record=consent.clinical_record,
        teaching=consent.teaching,
        publication=consent.publication,
        method=consent.method.value,
        session_key=session_key,
        recorded_by_id=recorded_by_id,
    )
    session.add(record)
    session.flush()
    return record


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
