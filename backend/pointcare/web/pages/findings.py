"""Findings pages (clinicians, admins): the patient's wounds and lesions, one finding with its
area over time and its photos, filing a photo under a finding, and the tracing tool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.corrections.visibility import not_rejected
from pointcare.db.models import Instance
from pointcare.domain.body_sites import Aspect
from pointcare.domain.findings import FindingKind
from pointcare.findings import service
from pointcare.findings.measuring import finding_measurements
from pointcare.findings.trend import TrendPoint, area_trend_svg
from pointcare.measurement.measure import MAX_TILT_DEG
from pointcare.runtime import Runtime
from pointcare.web.pages.capture import SITE_GROUPS
from pointcare.web.pages.common import load_patient, page, record_opened
from pointcare.web.pages.gallery import dicomweb_url
from pointcare.web.security import REVIEW

FINDINGS = "/patients/{mrn:str}/findings"


@dataclass
class FindingForm:
    kind: str = ""
    body_site: str = ""
    laterality: str = ""
    aspect: str = ""
    label: str = ""
    opened_on: str = ""


@dataclass
class CloseForm:
    closed_on: str = ""


@dataclass
class LinkForm:
    finding: str = ""
    """A finding's id, or empty to unlink."""


@get(FINDINGS, guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def findings_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    findings = service.patient_findings(db, context.patient)
    record_opened(request, runtime, context, page="findings")
    return page(
        "pages/findings.html",
        **context.as_context(),
        findings=findings,
        kinds=list(FindingKind),
        aspects=list(Aspect),
        site_groups=SITE_GROUPS,
        today=date.today(),
    )


@post(FINDINGS, guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def open_finding(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    data: Annotated[FindingForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
) -> Redirect:
    context = load_patient(db, mrn, issuer)
    parsed = service.parse_finding(
        kind=data.kind,
        label=data.label or None,
        body_site_code=data.body_site,
        laterality=data.laterality or None,
        aspect=data.aspect or None,
        opened_on=data.opened_on or None,
        today=date.today(),
    )
    actor = audit.actor_of(request, request.user)
    finding = service.open_finding(
        runtime.db, actor, context.patient, parsed, user_id=request.user.user_id
    )
    return Redirect(context.urls.finding(finding.id), status_code=303)


@get(FINDINGS + "/{finding_id:int}", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def finding_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    finding_id: FromPath[int],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """The finding, its area over time (SVG), each measurement, and its photos."""
    context = load_patient(db, mrn, issuer)
    finding = service.get_finding(db, context.patient, finding_id)
    measurements = finding_measurements(db, finding)
    photos = list(
        db.scalars(
            select(Instance)
            .where(Instance.finding_id == finding.id, not_rejected())
            .order_by(Instance.captured_at.desc())
        )
    )
    thumbnails = {p.sop_instance_uid: dicomweb_url(p, "thumbnail") for p in photos}
    sealed = glass.sealed_uids(db, request.user.user_id, [p.sop_instance_uid for p in photos])
    chart = area_trend_svg(
        [TrendPoint(m.photo.captured_at, m.area_cm2) for m in measurements], label=finding.label
    )
    record_opened(
        request, runtime, context, page="finding", listed=[p.sop_instance_uid for p in photos]
    )
    return page(
        "pages/finding.html",
        **context.as_context(),
        finding=finding,
        kind=FindingKind(finding.kind),
        measurements=measurements,
        photos=photos,
        sealed=sealed,
        thumbnails=thumbnails,
        chart=chart,
        today=date.today(),
    )


@post(
    FINDINGS + "/{finding_id:int}/close",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def close_finding(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    finding_id: FromPath[int],
    data: Annotated[CloseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
) -> Redirect:
    """Close the finding (healed, removed), then show it again."""
    context = load_patient(db, mrn, issuer)
    closed_on = service.parse_closed_on(data.closed_on, today=date.today())
    actor = audit.actor_of(request, request.user)
    service.close_finding(runtime.db, actor, context.patient, finding_id, closed_on)
    return Redirect(context.urls.finding(finding_id), status_code=303)


@post(
    "/patients/{mrn:str}/photos/{sop:str}/finding",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def file_photo(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    sop: FromPath[str],
    data: Annotated[LinkForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
) -> Redirect:
    """File the photo under one of the patient's findings (or none), then show it again."""
    context = load_patient(db, mrn, issuer)
    finding_id = int(data.finding) if data.finding.strip().isdigit() else None
    actor = audit.actor_of(request, request.user)
    service.link_photo(runtime.db, actor, context.patient, finding_id, sop)
    return Redirect(context.urls.photo(sop), status_code=303)


@get(
    "/patients/{mrn:str}/photos/{sop:str}/measure",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def measure_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """The tracing tool: the photo with an outline drawn over it, measured by the API."""
    context = load_patient(db, mrn, issuer)
    photo = service.patient_photo(db, context.patient, sop)
    glass.require_unsealed(db, request.user.user_id, [sop])
    finding = (
        service.get_finding(db, context.patient, photo.finding_id) if photo.finding_id else None
    )
    actor = audit.actor_of(request, request.user)
    patient = audit.PatientRef.of(context.patient)
    audit.record_now(runtime.db, audit.image_viewed(actor, patient, [sop], via="measure page"))
    return page(
        "pages/measure.html",
        **context.as_context(),
        photo=photo,
        rendered_url=dicomweb_url(photo, "rendered"),
        finding=finding,
        max_tilt=MAX_TILT_DEG,
    )


FINDINGS_PAGES = [
    findings_page,
    open_finding,
    finding_page,
    close_finding,
    file_photo,
    measure_page,
]
