"""A received object as the one stored-object pipeline stores it (``capture.pipeline``).

It is kept byte for byte under its own UIDs, filed in the study and series it names (created
here the first time, for its patient), indexed like Pointcare's own objects, queued for the
PACS and audited the same way. A photo needs what every photo here has: a body site of the
catalogue (its Anatomic Region Sequence, SNOMED CT), a side that fits it, a thumbnail (made
here), and the patient's consent, asked with the request (the four questions of the API), never
taken for granted. Intimate sites make it sensitive, as at the bedside.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from datetime import datetime
from functools import partial
from io import BytesIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.valuerep import DT
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.capture.filing import STUDY_DESCRIPTION, SeriesPurpose
from pointcare.capture.pipeline import NewObject
from pointcare.db.models import Patient, Series, Study
from pointcare.dicom import store_status as status
from pointcare.dicom.pixels import frame_image
from pointcare.domain.body_sites import BodySite, Laterality, body_site
from pointcare.domain.clock import TakenAt, TakenAtSource, offset_minutes
from pointcare.domain.codes import SCT
from pointcare.domain.consent import ConsentAnswers
from pointcare.domain.objects import ObjectKind
from pointcare.imaging.photo import thumbnail_jpeg
from pointcare.intake.received import DOCUMENT_CLASSES, ReceivedObject, Refused

SOURCE = "stow-rs"
"""The way in, in the audit trail."""


def new_object(
    received: ReceivedObject, *, patient_id: int, operator_id: int, consent: ConsentAnswers | None
) -> NewObject:
    """What the pipeline needs to store ``received`` for ``patient_id``; ``Refused`` for a photo
    that lacks a site, a side or the patient's consent."""
    dataset = dcmread(BytesIO(received.part10), stop_before_pixels=True)
    taken = taken_of(dataset)
    common = {
        "sop_class_uid": received.sop_class_uid,
        "transfer_syntax_uid": received.transfer_syntax_uid,
        "patient_id": patient_id,
        "operator_id": operator_id,
        "taken": taken,
        "place": partial(as_received, received, taken),
        "build": None,
        "content_sha256": hashlib.sha256(received.part10).hexdigest(),
        "part10": received.part10,
        "sop_instance_uid": received.sop_instance_uid,
        "instance_number": int(dataset.get("InstanceNumber", 1) or 1),
    }
    if received.sop_class_uid in DOCUMENT_CLASSES:
        title = str(dataset.get("DocumentTitle", "") or "")
        return NewObject(
            kind=ObjectKind.DOCUMENT,
            description=title[:1024],
            audit_details={"source": SOURCE},
            **common,  # type: ignore[arg-type]
        )
    if consent is None:
        raise Refused(
            status.NO_CONSENT,
            "A photo is stored only with the patient's consent: send consent_clinical, "
            "consent_teaching, consent_publication and consent_method with the request.",
        )
    site, laterality = _site(dataset)
    full = dcmread(BytesIO(received.part10))
    with frame_image(full, 0) as image:
        thumbnail = thumbnail_jpeg(image)
    recognizable = str(dataset.get("RecognizableVisualFeatures", "")) == "YES"
    return NewObject(
        kind=ObjectKind.PHOTO,
        description=str(dataset.get("ImageComments", "") or "")[:1024],
        thumbnail=thumbnail,
        columns={
            "body_site_code": site.snomed_id,
            "laterality": laterality.value,
            "aspect": aspect_of(dataset, site),
            "view": None,
            "sensitive": site.intimate,
            "recognizable": recognizable or site.identifying,
            "rows": received.rows,
            "columns": received.columns,
            "source_format": "dicom",
            "reencoded": False,
        },
        consent=consent,
        audit_details={"sensitive": site.intimate, "source": SOURCE},
        **common,  # type: ignore[arg-type]
    )


def _site(dataset: Dataset) -> tuple[BodySite, Laterality]:
    codes = [
        (str(item.get("CodingSchemeDesignator", "")), str(item.get("CodeValue", "")))
        for item in dataset.get("AnatomicRegionSequence", [])
    ]
    found = [code for scheme, code in codes if scheme in {SCT, "SRT"}]
    try:
        site = body_site(found[0]) if found else None
    except ValueError:
        site = None
    if site is None:
        raise Refused(
            status.DOES_NOT_MATCH_SOP_CLASS,
            "Anatomic Region Sequence must name a body site of the catalogue (SNOMED CT), as "
            "every photo here has.",
        )
    raw = str(dataset.get("ImageLaterality", "") or "U")
    try:
        laterality = site.laterality_for(Laterality(raw))
    except ValueError as exc:
        raise Refused(status.DOES_NOT_MATCH_SOP_CLASS, f"Image Laterality: {exc}.") from None
    return site, laterality


def aspect_of(dataset: Dataset, site: BodySite) -> str | None:
    """The face of the site its Anatomic Region Modifier Sequence names, when it is one the
    site offers; other modifiers stay in the object, unindexed."""
    offered = {(SCT, aspect.code.value): aspect for aspect in site.aspects}
    for region in dataset.get("AnatomicRegionSequence", [])[:1]:
        for item in region.get("AnatomicRegionModifierSequence", []):
            scheme = str(item.get("CodingSchemeDesignator", ""))
            found = offered.get(
                (SCT if scheme == "SRT" else scheme, str(item.get("CodeValue", "")))
            )
            if found is not None:
                return found.value
    return None


def taken_of(dataset: Dataset) -> TakenAt:
    """When the device took it (Acquisition DateTime, else Content Date and Time, at the
    object's Timezone Offset From UTC); when it arrived, if the object does not say."""
    text = str(dataset.get("AcquisitionDateTime", "") or "")
    if not text:
        text = str(dataset.get("ContentDate", "") or "") + str(dataset.get("ContentTime", "") or "")
    offset = str(dataset.get("TimezoneOffsetFromUTC", "") or "")
    moment = _moment(text, offset)
    if moment is None:
        return TakenAt(datetime.now().astimezone(), TakenAtSource.SERVER)
    return TakenAt(moment, TakenAtSource.DEVICE)


def _moment(text: str, offset: str) -> datetime | None:
    """``text`` as DICOM DT (pydicom's reading), at ``offset`` when it names no zone."""
    try:
        moment: datetime | None = DT(text)
    except ValueError:
        return None
    if moment is None:  # no date at all
        return None
    if moment.tzinfo is None and offset:
        with suppress(ValueError):  # an unreadable offset: the moment stands without it
            moment = DT(text + offset)
    plain = datetime.fromisoformat(moment.isoformat())  # a plain datetime, not pydicom's DT
    return plain if plain.tzinfo is not None else plain.astimezone()  # the hospital's time


def as_received(
    received: ReceivedObject, taken: TakenAt, session: Session, patient: Patient, _uid_root: str
) -> tuple[Study, Series]:
    """The study and series ``received`` names, created for ``patient`` the first time."""
    study = session.scalar(
        select(Study).where(Study.study_instance_uid == received.study_instance_uid)
    )
    dataset = dcmread(BytesIO(received.part10), stop_before_pixels=True)
    if study is None:
        study = Study(
            study_instance_uid=received.study_instance_uid,
            study_key=f"received:{received.study_instance_uid}",
            patient_id=patient.id,
            visit_number=patient.visit_number,
            study_id=str(dataset.get("StudyID", "") or "")[:16],
            study_datetime=taken.moment,
            study_tz_offset_minutes=offset_minutes(taken.moment),
            description=str(dataset.get("StudyDescription", "") or STUDY_DESCRIPTION)[:64],
        )
        session.add(study)
        session.flush()
    if study.patient_id != patient.id:
        raise Refused(status.PATIENT_MISMATCH, "The study is held here for another patient.")
    series = session.scalar(
        select(Series).where(Series.series_instance_uid == received.series_instance_uid)
    )
    if series is None:
        purpose = SeriesPurpose.DOCUMENTS if received.sop_class_uid in DOCUMENT_CLASSES else None
        series = Series(
            series_instance_uid=received.series_instance_uid,
            series_key=f"received:{received.series_instance_uid}",
            study_id=study.id,
            series_number=int(dataset.get("SeriesNumber", 0) or 0),
            description=str(dataset.get("SeriesDescription", "") or (purpose or ""))[:64],
            instance_count=0,
        )
        session.add(series)
        session.flush()
    return study, series
