"""Review: a patient's photos by date, and one photo large with its record (clinicians, admins).

With a PACS as the archive, each photo shows its delivery state, and the patient page loads
(lazily, with htmx) every study the PACS holds for the patient, with photo thumbnails fetched
through this server: the browser never talks to the PACS, nor learns its credentials.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare.archive.protocol import ArchiveUnavailable, PatientKey, StudySummary
from pointcare.db.models import Patient
from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from pointcare.web.pages.common import load_patient, page
from pointcare.web.pages.gallery import photo_days, photo_detail
from pointcare.web.security import REVIEW

log = logging.getLogger(__name__)

PHOTO_MODALITIES = frozenset({"XC", "OT", "ES", "GM"})
"""Studies with one of these modalities get a thumbnail: photos (ours or another system's)."""


@get("/patients/{mrn:str}", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def review_page(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    pacs = runtime.settings.delivers_to_pacs
    days = photo_days(db, context.patient, with_delivery=pacs)
    return page(
        "pages/review.html",
        **context.as_context(),
        days=days,
        photo_count=sum(len(day.photos) for day in days),
        pacs_studies_url=_pacs_path(context.patient) if pacs else None,
    )


@get(
    "/patients/{mrn:str}/photos/{sop:str}",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def photo_page(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
    show: FromQuery[bool] = False,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    detail = photo_detail(db, context.patient, sop, with_delivery=runtime.settings.delivers_to_pacs)
    return page("pages/photo.html", **context.as_context(), photo=detail, show=show)


# --- What the PACS holds ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacsStudy:
    study: StudySummary
    modalities: str
    thumbnail_url: str | None
    viewer_url: str | None


def _pacs_path(patient: Patient, study: str | None = None) -> str:
    """``/patients/{mrn}/pacs-studies[/{study}/thumbnail]?issuer=...``."""
    suffix = f"/pacs-studies/{quote(study, safe='')}/thumbnail" if study else "/pacs-studies"
    return (
        f"/patients/{quote(patient.mrn, safe='')}{suffix}?issuer={quote(patient.issuer, safe='')}"
    )


def _patient_with_pacs(db: Session, runtime: Runtime, mrn: str, issuer: str | None) -> Patient:
    """The patient whose PACS holdings are asked for; 404 when there is no PACS."""
    if not runtime.settings.delivers_to_pacs:
        raise NotFound("There is no PACS to ask: photos are kept here.")
    return load_patient(db, mrn, issuer).patient


def _key(patient: Patient) -> PatientKey:
    return PatientKey(patient.mrn, patient.issuer or None)


@get(
    "/patients/{mrn:str}/pacs-studies",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def pacs_studies(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """The fragment "In the PACS": every study the PACS holds for the patient, any modality."""
    patient = _patient_with_pacs(db, runtime, mrn, issuer)
    try:
        found = runtime.archive.search_studies(_key(patient))
    except (ArchiveUnavailable, ValueError) as exc:
        log.warning("PACS study search failed for the review page: %s", exc)
        return page("partials/_pacs_studies.html", studies=None)
    studies = [
        PacsStudy(
            study=study,
            modalities=", ".join(study.modalities) or "Not stated",
            thumbnail_url=(
                _pacs_path(patient, study.study_instance_uid)
                if PHOTO_MODALITIES & set(study.modalities)
                else None
            ),
            viewer_url=runtime.settings.viewer_link(study.study_instance_uid),
        )
        for study in found
    ]
    return page("partials/_pacs_studies.html", studies=studies)


@get(
    "/patients/{mrn:str}/pacs-studies/{study:str}/thumbnail",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def pacs_study_thumbnail(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    study: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[bytes]:
    """A thumbnail (320 px) of the first instance of one of the patient's PACS studies."""
    patient = _patient_with_pacs(db, runtime, mrn, issuer)
    archive = runtime.archive
    if study not in {s.study_instance_uid for s in archive.search_studies(_key(patient))}:
        raise NotFound("The PACS holds no such study for this patient.")
    instances = archive.search_instances(study)
    if not instances:
        raise NotFound("The PACS holds no images in this study.")
    return Response(archive.retrieve_thumbnail(instances[0]), media_type="image/jpeg")
