"""QIDO-RS searches answered from the archive index: one SQL statement per request, no files read.

Counts and the modalities of a study are correlated subqueries, evaluated only for the rows of
the page being answered. Studies are listed newest first; series by number; instances by number.
Dates and times are given in the study's own local time, as in the stored objects.

Each level answers the attributes of PS3.18's tables (10.6.3-3 to 10.6.3-5) that are known
here, and more the index holds (``RETURNED``): ``includefield`` can ask for nothing else, so it
only draws a Warning for what is not returned. Attributes are built per module, so that an
object without pixels (a document, a key object note) simply has no image attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, and_, distinct, exists, func, select
from sqlalchemy.orm import Session

from pointcare.corrections.visibility import not_rejected
from pointcare.db.models import Instance, Patient, Series, Study
from pointcare.dicom import values as v
from pointcare.dicom.json_model import JsonObject, merged, to_dicom_json
from pointcare.domain.body_sites import Aspect, body_site
from pointcare.domain.codes import Code
from pointcare.identity.directory import identity_of
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.matching import INCLUDE_ALL, Level, Search
from pointcare.web.dicomweb.modalities import SINGLE_FRAME_SOP_CLASSES, modalities_of, modality_of

CHARACTER_SET = "ISO_IR 192"
"""DICOM JSON is UTF-8 (PS3.18 F.2): the Specific Character Set of every answer."""
ONLINE = "ONLINE"
"""Instance Availability: every object here is retrievable at once."""


_PATIENT = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex")
_STUDY = (
    "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "InstanceAvailability",
    "ReferringPhysicianName", "TimezoneOffsetFromUTC", "StudyID", "StudyDescription",
    "RetrieveURL",
)  # fmt: skip
_STUDY_SUMMARY = (
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
_SERIES = (
    "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "Modality",
    "NumberOfSeriesRelatedInstances",
)  # fmt: skip
_INSTANCE = (
    "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "ContentDate", "ContentTime",
    "AvailableTransferSyntaxUID", "Rows", "Columns", "BitsAllocated", "NumberOfFrames",
    "ImageLaterality", "AnatomicRegionSequence",
)  # fmt: skip
RETURNED: dict[Level, frozenset[str]] = {
    Level.STUDY: frozenset(("SpecificCharacterSet", *_PATIENT, *_STUDY, *_STUDY_SUMMARY)),
    Level.SERIES: frozenset(("SpecificCharacterSet", *_PATIENT, *_STUDY, *_SERIES)),
    Level.INSTANCE: frozenset(("SpecificCharacterSet", *_PATIENT, *_STUDY, *_SERIES, *_INSTANCE)),
}
"""Every attribute a search at each level can answer (those of the levels above included;
study-level counts and modalities only in study searches)."""


def not_returned(search: Search) -> list[str]:
    """The attributes ``includefield`` asked for that this archive does not answer."""
    return sorted(search.include - RETURNED[search.level] - {INCLUDE_ALL})


@dataclass(frozen=True, slots=True)
class Scope:
    """The study (and series) a search is confined to by its path, already checked as UIDs."""

    study_uid: str | None = None
    series_uid: str | None = None


NEWEST_FIRST = (Study.study_date.desc(), Study.study_datetime.desc(), Study.id.desc())
"""The order of every answer's studies: by the study's own date, then its time (one index,
``ix_studies_study_date``, serves it with or without a StudyDate range)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    objects: list[JsonObject]
    more: bool
    """True when further matches exist beyond this page (answered with a Warning)."""


def run_search(session: Session, search: Search, scope: Scope, *, service: str) -> SearchResult:
    if search.level is Level.STUDY:
        return _studies(session, search, service)
    if search.level is Level.SERIES:
        return _series(session, search, scope, service)
    return _instances(session, search, scope, service)


def _page(
    session: Session, query: Select[*tuple[Any, ...]], search: Search
) -> tuple[list[Any], bool]:
    # One row more than asked for tells whether another page exists, without a COUNT query.
    rows = list(session.execute(query.limit(search.limit + 1).offset(search.offset)).all())
    return rows[: search.limit], len(rows) > search.limit


# --- Studies ---------------------------------------------------------------------------------


def _studies(session: Session, search: Search, service: str) -> SearchResult:
    in_study = and_(Instance.study_id == Study.id, not_rejected())
    series_count = (
        select(func.count(distinct(Instance.series_id))).where(in_study).scalar_subquery()
    )
    instance_count = select(func.count(Instance.id)).where(in_study).scalar_subquery()
    sop_classes = (
        select(Instance.sop_class_uid.label("sop_class"))
        .where(in_study)
        .distinct()
        .correlate(Study)
    ).subquery()
    classes = select(func.aggregate_strings(sop_classes.c.sop_class, ",")).scalar_subquery()
    query = (
        select(Study, Patient, series_count, instance_count, classes)
        .join(Patient, Patient.id == Study.patient_id)
        .where(exists(select(Instance.id).where(in_study)), *search.conditions)
        .order_by(*NEWEST_FIRST)
    )
    rows, more = _page(session, query, search)
    objects = [
        to_dicom_json(
            {
                "SpecificCharacterSet": CHARACTER_SET,
                **_patient_attributes(patient),
                **_study_attributes(study, service),
                "ModalitiesInStudy": modalities_of((sop_class_list or "").split(",")),
                "NumberOfStudyRelatedSeries": n_series,
                "NumberOfStudyRelatedInstances": n_instances,
            }
        )
        for study, patient, n_series, n_instances, sop_class_list in rows
    ]
    return SearchResult(objects, more)


# --- Series ----------------------------------------------------------------------------------


def _series(session: Session, search: Search, scope: Scope, service: str) -> SearchResult:
    in_series = and_(Instance.series_id == Series.id, not_rejected())
    instance_count = select(func.count(Instance.id)).where(in_series).scalar_subquery()
    # All instances of a series share one modality (PS3.3 C.7.3.1), so any one SOP Class tells it.
    sop_class = select(func.min(Instance.sop_class_uid)).where(in_series).scalar_subquery()
    query = (
        select(Series, Study, Patient, instance_count, sop_class)
        .join(Study, Study.id == Series.study_id)
        .join(Patient, Patient.id == Study.patient_id)
        .where(exists(select(Instance.id).where(in_series)), *search.conditions)
        .order_by(*NEWEST_FIRST, Series.series_number, Series.id)
    )
    if scope.study_uid is not None:
        query = query.where(Study.study_instance_uid == scope.study_uid)
    rows, more = _page(session, query, search)
    objects = []
    for series, study, patient, n_instances, series_sop_class in rows:
        attributes: dict[str, Any] = {
            "SpecificCharacterSet": CHARACTER_SET,
            "StudyInstanceUID": study.study_instance_uid,
        }
        if scope.study_uid is None:
            attributes |= _patient_attributes(patient) | _study_attributes(study, service)
        attributes |= _series_attributes(series, study, service)
        attributes |= {
            "Modality": modality_of(series_sop_class),
            "NumberOfSeriesRelatedInstances": n_instances,
        }
        objects.append(to_dicom_json(attributes))
    return SearchResult(objects, more)


# --- Instances -------------------------------------------------------------------------------


def _instances(session: Session, search: Search, scope: Scope, service: str) -> SearchResult:
    query = (
        select(Instance, Series, Study, Patient)
        .join(Series, Series.id == Instance.series_id)
        .join(Study, Study.id == Series.study_id)
        .join(Patient, Patient.id == Study.patient_id)
        .where(not_rejected(), *search.conditions)
        .order_by(
            *NEWEST_FIRST,
            Series.series_number,
            Series.id,
            Instance.instance_number,
            Instance.id,
        )
    )
    if scope.study_uid is not None:
        query = query.where(Study.study_instance_uid == scope.study_uid)
    if scope.series_uid is not None:
        query = query.where(Series.series_instance_uid == scope.series_uid)
    rows, more = _page(session, query, search)
    # A patient's photos share few series: each series' part (its patient, study and series
    # attributes) is built once per page, not once per instance.
    upper: dict[int, JsonObject] = {}
    objects = []
    for instance, series, study, patient in rows:
        if (shared := upper.get(series.id)) is None:
            attributes: dict[str, Any] = {
                "SpecificCharacterSet": CHARACTER_SET,
                "StudyInstanceUID": study.study_instance_uid,
            }
            if scope.study_uid is None:
                attributes |= _patient_attributes(patient) | _study_attributes(study, service)
            attributes["SeriesInstanceUID"] = series.series_instance_uid
            if scope.series_uid is None:
                attributes |= _series_attributes(series, study, service)
            shared = upper[series.id] = to_dicom_json(attributes)
        own = _instance_attributes(instance, series, study, service)
        if scope.series_uid is None:
            own["Modality"] = modality_of(instance.sop_class_uid)
        objects.append(merged(shared, to_dicom_json(own)))
    return SearchResult(objects, more)


# --- Attributes of each level ----------------------------------------------------------------


def _local(moment: datetime, offset_minutes: int) -> datetime:
    """``moment`` as the wall-clock time where it happened (``offset_minutes`` from UTC)."""
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes)))


def _patient_attributes(patient: Patient) -> dict[str, Any]:
    identity = identity_of(patient)
    return {
        "PatientName": identity.dicom_name,
        "PatientID": patient.mrn,
        "IssuerOfPatientID": patient.issuer,
        "PatientBirthDate": f"{identity.birth_date:%Y%m%d}" if identity.birth_date else None,
        "PatientSex": identity.sex.dicom_value or None,
    }


def _study_attributes(study: Study, service: str) -> dict[str, Any]:
    local = _local(study.study_datetime, study.study_tz_offset_minutes)
    return {
        "StudyInstanceUID": study.study_instance_uid,
        "StudyDate": v.da(local),
        "StudyTime": v.tm(local),
        "AccessionNumber": None,
        "InstanceAvailability": ONLINE,
        "ReferringPhysicianName": None,
        "TimezoneOffsetFromUTC": v.utc_offset(local),
        "StudyID": study.study_id,
        "StudyDescription": study.description,
        "RetrieveURL": links.study_url(service, study.study_instance_uid),
    }


def _series_attributes(series: Series, study: Study, service: str) -> dict[str, Any]:
    return {
        "SeriesInstanceUID": series.series_instance_uid,
        "SeriesNumber": series.series_number,
        "SeriesDescription": series.description,
        "TimezoneOffsetFromUTC": v.utc_offset(
            _local(study.study_datetime, study.study_tz_offset_minutes)
        ),
        "RetrieveURL": links.series_url(
            service, study.study_instance_uid, series.series_instance_uid
        ),
    }


def _instance_attributes(
    instance: Instance, series: Series, study: Study, service: str
) -> dict[str, Any]:
    """The attributes of any stored object, then those of its kind."""
    captured = _local(instance.captured_at, instance.captured_tz_offset_minutes)
    common = {
        "SOPClassUID": instance.sop_class_uid,
        "SOPInstanceUID": instance.sop_instance_uid,
        "InstanceAvailability": ONLINE,
        "InstanceNumber": instance.instance_number,
        "ContentDate": v.da(captured),
        "ContentTime": v.tm(captured),
        "TimezoneOffsetFromUTC": v.utc_offset(captured),
        "AvailableTransferSyntaxUID": instance.transfer_syntax_uid,
        "RetrieveURL": links.instance_url(
            service, study.study_instance_uid, series.series_instance_uid, instance.sop_instance_uid
        ),
    }
    return common | _image_attributes(instance) | _photo_attributes(instance)


def _image_attributes(instance: Instance) -> dict[str, Any]:
    """Image Pixel attributes (Table 10.6.3-5's "if known"): none for an object without pixels.
    Every image stored here has 8-bit samples."""
    if not instance.object_kind.is_image or instance.rows is None:
        return {}
    attributes = {"Rows": instance.rows, "Columns": instance.columns, "BitsAllocated": 8}
    if instance.sop_class_uid in SINGLE_FRAME_SOP_CLASSES:
        attributes["NumberOfFrames"] = 1
    return attributes


def _photo_attributes(instance: Instance) -> dict[str, Any]:
    """What a clinical photo says of the body: its side and site."""
    if not instance.object_kind.is_image:
        return {}
    return {
        "ImageLaterality": instance.laterality,
        "AnatomicRegionSequence": _anatomic_region(instance.body_site_code or "", instance.aspect),
    }


def _anatomic_region(snomed_id: str, aspect: str | None) -> list[dict[str, Any]]:
    """The site and, when the photo names one, the face of it (its Anatomic Region Modifier)."""
    try:
        site = body_site(snomed_id)
    except ValueError:
        return []  # a code no longer offered: its meaning is in the stored object, not here
    region: dict[str, Any] = _code(site.code)
    if aspect:
        region["AnatomicRegionModifierSequence"] = [_code(Aspect(aspect).code)]
    return [region]


def _code(code: Code) -> dict[str, Any]:
    return {
        "CodeValue": code.value,
        "CodingSchemeDesignator": code.scheme,
        "CodeMeaning": code.meaning,
    }
