"""Capture: the patient banner and a photo form that stores through the same command as the API.

Consent is asked on the form, every question unanswered until the user answers it. Once a
photo is stored, the answers carry over to the next photo of the same sitting (the same
consent record), folded into one line that opens again to change them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.command import ConfirmedPatient, Source
from pointcare.capture.pipeline import Stored
from pointcare.domain.body_sites import BODY_SITES, BodySite, Region, site_with_side
from pointcare.domain.consent import CONSENT_FIELDS, ConsentMethod
from pointcare.domain.objects import ObjectKind
from pointcare.errors import ConsentRequired, PointcareError
from pointcare.findings.service import FindingChoice, open_findings
from pointcare.runtime import Runtime
from pointcare.web.forms import CaptureForm, capture, command_of
from pointcare.web.limits import UPLOAD_ROUTE
from pointcare.web.pages.common import PatientContext, fragment, is_htmx, load_patient, page

SITE_GROUPS: tuple[tuple[str, tuple[BodySite, ...]], ...] = tuple(
    (region.value, tuple(site for site in BODY_SITES if site.region is region)) for region in Region
)
"""Body sites for the <select>, grouped by region (head first), each in the catalogue's order."""

CONSENT_METHODS = tuple(ConsentMethod)

FIELD_MESSAGES = {
    "body_site": "Choose the body site.",
    "laterality": "Choose the side: Right, Left or Both sides.",
    "aspect": "Choose a face this body site has (front, back...), or none.",
    "view": "Choose overview, close-up or dermoscopic.",
    "captured_at": "The phone's date or time looks wrong. Check its clock, then send again.",
    "finding": "Choose one of this patient's open wounds or lesions, or none.",
}
"""What a clinician reads for a field the API describes in developer terms."""

PANEL = "capture-panel"


@dataclass(frozen=True, slots=True)
class CaptureValues:
    """What the form shows. After a photo is stored, the tags and consent carry over."""

    capture_id: str
    body_site: str = ""
    laterality: str = ""
    aspect: str = ""
    view: str = ""
    description: str = ""
    consent_clinical: str = ""
    """``yes``, ``no`` or ``""`` (not answered yet): never answered for the user."""
    consent_teaching: str = ""
    consent_publication: str = ""
    consent_method: str = ""
    sensitive: bool = False
    finding: str = ""
    """The wound or lesion the photos show (a finding's id), carried over like the tags."""
    session_id: str = ""
    """The sitting: its photos are filed together, under one consent record."""

    @property
    def consent_answered(self) -> bool:
        return all(getattr(self, name) for name in CONSENT_FIELDS)

    def next_photo(self) -> CaptureValues:
        """A fresh form for the next photo: new capture_id, same tags, consent and sitting."""
        return replace(self, capture_id=new_capture_id(), description="")

    @classmethod
    def of(cls, form: CaptureForm) -> CaptureValues:
        return cls(
            capture_id=_uuid(form.capture_id) or new_capture_id(),
            body_site=(form.body_site or "").strip(),
            laterality=(form.laterality or "").strip(),
            aspect=(form.aspect or "").strip(),
            view=(form.view or "").strip(),
            description=form.description or "",
            consent_clinical=_answer(form.consent_clinical),
            consent_teaching=_answer(form.consent_teaching),
            consent_publication=_answer(form.consent_publication),
            consent_method=(form.consent_method or "").strip(),
            sensitive=(form.sensitive or "").strip().lower() in {"true", "yes", "on"},
            finding=(form.finding or "").strip(),
            session_id=_uuid(form.session_id) or new_capture_id(),
        )


def new_capture_id() -> str:
    return str(uuid.uuid4())


def _uuid(raw: str | None) -> str | None:
    """The form's id; None when it is missing or mangled (the server issues them, so a broken
    one can only be a stale or tampered page: the send then counts as new)."""
    try:
        return str(uuid.UUID((raw or "").strip()))
    except ValueError:
        return None


def _answer(raw: str | None) -> str:
    value = (raw or "").strip().lower()
    return value if value in {"yes", "no"} else ""


def field_errors(exc: PointcareError) -> dict[str, str]:
    """Messages to show next to each field, in the clinic's words, as sentences."""
    if isinstance(exc, ConsentRequired):
        return {"consent_clinical": exc.detail}
    return {key: _sentence(FIELD_MESSAGES.get(key, message)) for key, message in exc.errors.items()}


def _sentence(message: str) -> str:
    text = message.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


@dataclass(frozen=True, slots=True)
class _Patient:
    context: PatientContext
    findings: list[FindingChoice]
    """The patient's open wounds and lesions, one of which a photo may be filed under."""


def _patient(db: Session, mrn: str, issuer: str | None) -> _Patient:
    context = load_patient(db, mrn, issuer)
    return _Patient(context, open_findings(db, context.patient))


def _patient_now(runtime: Runtime, mrn: str, issuer: str | None) -> _Patient:
    with runtime.db.session() as session:
        return _patient(session, mrn, issuer)


def _panel(
    request: Request[Any, Any, Any],
    patient: _Patient,
    values: CaptureValues,
    *,
    status: int = 200,
    stored: Stored | None = None,
    stored_label: str = "",
    problem: PointcareError | None = None,
) -> Response[Any]:
    data = {
        **patient.context.as_context(),
        "findings": patient.findings,
        "values": values,
        "site_groups": SITE_GROUPS,
        "consent_methods": CONSENT_METHODS,
        "stored": stored,
        "stored_label": stored_label,
        "problem": problem,
        "errors": field_errors(problem) if problem else {},
    }
    if is_htmx(request):
        return fragment("partials/_capture_panel.html", target=PANEL, status=status, **data)
    return page("pages/capture.html", status=status, **data)


@get("/capture", sync_to_thread=False, include_in_schema=False)
def capture_by_query(
    mrn: FromQuery[str] = "", issuer: FromQuery[str | None] = None
) -> Response[Any]:
    """``/capture?mrn=...``, as an EHR link or a typed URL gives it: to the capture page."""
    if not mrn.strip():
        return Redirect("/", status_code=303)
    suffix = f"?issuer={quote(issuer)}" if issuer else ""
    return Redirect(f"/patients/{quote(mrn.strip(), safe='')}/capture{suffix}", status_code=303)


@get("/patients/{mrn:str}/capture", sync_to_thread=True, include_in_schema=False)
def capture_page(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    patient = _patient(db, mrn, issuer)
    actor = audit.actor_of(request, request.user)
    audit.record_now(
        runtime.db, *audit.patient_opened(actor, patient.context.patient, page="capture")
    )
    fresh = CaptureValues(capture_id=new_capture_id(), session_id=new_capture_id())
    return _panel(request, patient, fresh)


@post("/patients/{mrn:str}/photos", include_in_schema=False, opt=UPLOAD_ROUTE)
async def capture_photo(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """Store one photo; answer with the outcome and a fresh form for the next one."""
    patient = await anyio.to_thread.run_sync(_patient_now, runtime, mrn, issuer)
    values = CaptureValues.of(data)
    data.capture_id, data.session_id = values.capture_id, values.session_id
    confirmed = patient.context.patient
    try:
        command = command_of(
            data,
            kind=ObjectKind.PHOTO,
            source=Source.CAPTURE_PAGE,
            patient=ConfirmedPatient(mrn=confirmed.mrn, issuer=confirmed.issuer),
        )
        stored = await capture(
            runtime, principal, data, command, actor=audit.actor_of(request, principal)
        )
    except PointcareError as exc:
        return _panel(request, patient, values, status=exc.status_code, problem=exc)
    # An unpaired site sent without a side is recorded as U: its label has no side.
    label = site_with_side(values.body_site, values.laterality or "U", values.aspect)
    label += "".join(f", {f.label}" for f in patient.findings if str(f.id) == values.finding)
    return _panel(
        request,
        patient,
        values.next_photo(),
        status=201 if stored.created else 200,
        stored=stored,
        stored_label=label,
    )
