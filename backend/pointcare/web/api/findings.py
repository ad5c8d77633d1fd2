"""The findings API (tag ``findings``): a patient's wounds and lesions, opening one, linking a
photo to one. Any signed-in role may list and open findings (a nurse files a photo under a wound
at the bedside); linking an already stored photo is a review action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.db.models import Finding, Patient
from pointcare.domain.body_sites import Aspect, body_site
from pointcare.domain.findings import FindingKind
from pointcare.findings import service
from pointcare.launch.binding import check_may_open
from pointcare.runtime import Runtime
from pointcare.web.pages.common import load_patient
from pointcare.web.security import REVIEW


@dataclass
class FindingIn:
    kind: str
    """``pressure-injury``, ``surgical-wound``, ``venous-ulcer``, ``diabetic-foot-ulcer``,
    ``burn``, ``other-wound`` or ``skin-lesion``."""
    body_site: str
    """SNOMED CT concept id (see GET /api/v1/body-sites)."""
    laterality: str | None = None
    """R, L or B for paired sites."""
    aspect: str | None = None
    """``anterior``, ``posterior``, ``medial``, ``lateral``, ``proximal`` or ``distal``."""
    label: str | None = None
    """Omitted: the next "Wound N" or "Lesion N" of the patient."""
    opened_on: str | None = None
    """ISO date; today when omitted."""


@dataclass
class FindingOut:
    id: int
    tracking_uid: str
    kind: str
    kind_label: str
    label: str
    body_site: str
    body_site_meaning: str
    laterality: str
    aspect: str | None
    opened_on: date
    closed_on: date | None
    photos: int


@dataclass
class PhotoLinkIn:
    sop_instance_uid: str


@dataclass
class CloseIn:
    closed_on: str | None = None
    """ISO date the wound healed or the lesion was removed; today when omitted."""


def patient_of(db: Session, principal: Principal, mrn: str, issuer: str | None) -> Patient:
    """The patient a findings or measurements call is about, when this caller may open them."""
    patient = load_patient(db, mrn, issuer).patient
    check_may_open(db, principal, patient)
    return patient


def read_patient(
    request: Request[Principal, Any, Any],
    db: Session,
    runtime: Runtime,
    mrn: str,
    issuer: str | None,
    *,
    what: str,
) -> Patient:
    """``patient_of`` for a call that reads the patient's data: audited as an opening."""
    patient = patient_of(db, request.user, mrn, issuer)
    actor = audit.actor_of(request, request.user)
    audit.record_now(runtime.db, *audit.patient_opened(actor, patient, page=what))
    return patient


def finding_out(finding: Finding, photos: int) -> FindingOut:
    return FindingOut(
        id=finding.id,
        tracking_uid=finding.tracking_uid,
        kind=finding.kind,
        kind_label=FindingKind(finding.kind).label,
        label=finding.label,
        body_site=finding.body_site_code,
        body_site_meaning=body_site(finding.body_site_code).meaning,
        laterality=finding.laterality,
        aspect=Aspect(finding.aspect).value if finding.aspect else None,
        opened_on=finding.opened_on,
        closed_on=finding.closed_on,
        photos=photos,
    )


@get("/api/v1/patients/{mrn:str}/findings", tags=["findings"], sync_to_thread=True)
def list_findings(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> list[FindingOut]:
    """The patient's findings, open ones first, with their number of photos."""
    patient = read_patient(request, db, runtime, mrn, issuer, what="api findings")
    return [finding_out(f, n) for f, n in service.patient_findings(db, patient)]


@post("/api/v1/patients/{mrn:str}/findings", tags=["findings"], sync_to_thread=True)
def open_finding(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    data: FindingIn,
    issuer: FromQuery[str | None] = None,
) -> Response[FindingOut]:
    """Open a finding (a wound, a lesion) for the patient. 409 when the label is taken."""
    patient = patient_of(db, request.user, mrn, issuer)
    parsed = service.parse_finding(
        kind=data.kind,
        label=data.label,
        body_site_code=data.body_site,
        laterality=data.laterality,
        aspect=data.aspect,
        opened_on=data.opened_on,
        today=date.today(),
    )
    actor = audit.actor_of(request, request.user)
    finding = service.open_finding(runtime.db, actor, patient, parsed, user_id=request.user.user_id)
    return Response(finding_out(finding, 0), status_code=201)


@post(
    "/api/v1/patients/{mrn:str}/findings/{finding_id:int}/photos",
    tags=["findings"],
    guards=[REVIEW],
    sync_to_thread=True,
    status_code=204,
)
def link_photo(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    finding_id: FromPath[int],
    data: PhotoLinkIn,
    issuer: FromQuery[str | None] = None,
) -> None:
    """File one of the patient's stored photos under this finding."""
    patient = patient_of(db, request.user, mrn, issuer)
    actor = audit.actor_of(request, request.user)
    service.link_photo(runtime.db, actor, patient, finding_id, data.sop_instance_uid)


@post(
    "/api/v1/patients/{mrn:str}/findings/{finding_id:int}/close",
    tags=["findings"],
    guards=[REVIEW],
    sync_to_thread=True,
    status_code=200,
)
def close_finding(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    finding_id: FromPath[int],
    data: CloseIn,
    issuer: FromQuery[str | None] = None,
) -> FindingOut:
    """Close a finding (healed, removed): new photos can no longer be filed under it; its
    photos and measurements stay."""
    patient = patient_of(db, request.user, mrn, issuer)
    closed_on = service.parse_closed_on(data.closed_on, today=date.today())
    actor = audit.actor_of(request, request.user)
    finding = service.close_finding(runtime.db, actor, patient, finding_id, closed_on)
    counts = dict((f.id, n) for f, n in service.patient_findings(db, patient))
    return finding_out(finding, counts.get(finding.id, 0))


FINDINGS_ROUTES = [list_findings, open_finding, link_photo, close_finding]
