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

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.access.blur import blurred_jpeg
from pointcare.archive.protocol import ArchiveUnavailable, PatientKey, StudySummary
from pointcare.auth.principal import Principal
from pointcare.db.models import Patient
from pointcare.errors import NotFound
from pointcare.findings.service import patient_findings
from pointcare.runtime import Runtime
from pointcare.web import viewer
from pointcare.web.pages.common import is_htmx, load_patient, page
from pointcare.web.pages.documents import patient_documents
from pointcare.web.pages.filters import TimelineFilter, filter_choices
from pointcare.web.pages.gallery import Cursor, photo_count, photo_days, photo_detail
from pointcare.web.security import REVIEW

log = logging.getLogger(__name__)

TIMELINE_PAGE = 120
"""Photos on the first screen of the timeline (and on each further page): enough to fill a
desktop screen several times, few enough that the page comes at once for 1,000 photos."""

PHOTO_MODALITIES = frozenset({"XC", "OT", "ES", "GM"})
"""Studies with one of these modalities get a thumbnail: photos (ours or another system's)."""


@get("/patients/{mrn:str}", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def review_page(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
    before: FromQuery[str | None] = None,
    site: FromQuery[str | None] = None,
    laterality: FromQuery[str | None] = None,
    view: FromQuery[str | None] = None,
    consent: FromQuery[str | None] = None,
    operator: FromQuery[str | None] = None,
) -> Response[Any]:
    """The timeline, a page at a time: the newest photos at once, older ones as the clinician
    scrolls (htmx asks for the next page; without JS, "Older photos" opens it); filtered by
    site, side, view, consent or who took them."""
    context = load_patient(db, mrn, issuer)
    pacs = runtime.settings.delivers_to_pacs
    only = TimelineFilter.parse(
        site=site, laterality=laterality, view=view, consent=consent, operator=operator
    )
    cursor = Cursor.parse(before) if before else None
    timeline = photo_days(
        db, context.patient, with_delivery=pacs, limit=TIMELINE_PAGE, before=cursor, only=only
    )
    listed = [photo.sop_instance_uid for day in timeline.days for photo in day.photos]
    actor = audit.actor_of(request, request.user)
    events = audit.patient_opened(actor, context.patient, page="review", listed=listed)
    # A further page of the same timeline is one more list view, not another opening.
    audit.record_now(runtime.db, *(events[1:] if cursor else events))
    older_url = (
        f"{context.urls.review}{only.query()}&before={quote(timeline.older.token, safe='')}"
        if timeline.older
        else None
    )
    data = {
        **context.as_context(),
        "days": timeline.days,
        "older_url": older_url,
        "findings": patient_findings(db, context.patient),
    }
    studies = [photo.study_instance_uid for day in timeline.days for photo in day.photos]
    if cursor is not None and is_htmx(request):
        return page("partials/_review_days.html", **data)
    return page(
        "pages/review.html",
        **data,
        photo_count=photo_count(db, context.patient, only),
        filter=only,
        choices=filter_choices(db, context.patient),
        documents=patient_documents(db, context.patient) if cursor is None else [],
        pacs_studies_url=_pacs_path(context.patient) if pacs and cursor is None else None,
        viewer_url=viewer.study_link(runtime.settings, studies),
    )


@get(
    "/patients/{mrn:str}/photos/{sop:str}",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def photo_page(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
    show: FromQuery[bool] = False,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    detail = photo_detail(db, context.patient, sop, with_delivery=runtime.settings.delivers_to_pacs)
    # A sensitive photo stays sealed (no image sent) until this user broke the glass.
    sealed = bool(glass.sealed_uids(db, request.user.user_id, [sop]))
    actor = audit.actor_of(request, request.user)
    patient = audit.PatientRef.of(context.patient)
    # A sealed photo's page sends no image: the trail says the user was kept from it.
    outcome = audit.Outcome.REFUSED if sealed else audit.Outcome.SUCCESS
    event = audit.image_viewed(actor, patient, [sop], via="photo page", outcome=outcome)
    audit.record_now(runtime.db, event)
    findings = [finding for finding, _ in patient_findings(db, context.patient)]
    viewer_url = viewer.study_link(
        runtime.settings, [detail.instance.study.study_instance_uid], sop_uid=sop
    )
    return page(
        "pages/photo.html",
        **context.as_context(),
        photo=detail,
        show=show,
        sealed=sealed,
        findings=findings,
        viewer_url=viewer_url,
    )


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
    request: Request[Principal, Any, Any],
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
    if studies:  # one view of the whole list; its thumbnails are not audited one by one
        event = audit.AuditEvent(
            action=audit.AuditAction.IMAGE_LIST_VIEWED,
            actor=audit.actor_of(request, request.user),
            patient=audit.PatientRef.of(patient),
            objects=tuple(s.study.study_instance_uid for s in studies),
            details={"page": "review", "source": "pacs", "studies": len(studies)},
        )
        audit.record_now(runtime.db, event)
    return page("partials/_pacs_studies.html", studies=studies)


@get(
    "/patients/{mrn:str}/pacs-studies/{study:str}/thumbnail",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def pacs_study_thumbnail(
    request: Request[Principal, Any, Any],
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
    body = archive.retrieve_thumbnail(instances[0])
    # Blurred when the study holds a photo of ours marked sensitive that this user has not
    # broken the glass for (whichever instance the PACS lists first).
    uids = [ref.sop_instance_uid for ref in instances]
    if glass.sealed_uids(db, request.user.user_id, uids):
        body = blurred_jpeg(body)
    return Response(body, media_type="image/jpeg")
