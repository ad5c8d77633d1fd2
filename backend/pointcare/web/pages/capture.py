"""Capture: the patient banner and a photo form that stores through the same path as the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.ingest import StoredPhoto
from pointcare.capture.submission import check_submission
from pointcare.domain.body_sites import BODY_SITES, BodySite, Region, site_with_side
from pointcare.domain.consent import ConsentMethod
from pointcare.errors import ConsentRequired, InvalidInput, PointcareError
from pointcare.runtime import Runtime
from pointcare.web.api.photos import PhotoForm, raw_submission, store_photo
from pointcare.web.pages.common import (
    PatientContext,
    fragment,
    is_htmx,
    load_patient,
    page,
)

SITE_GROUPS: tuple[tuple[str, tuple[BodySite, ...]], ...] = tuple(
    (region.value, tuple(site for site in BODY_SITES if site.region is region)) for region in Region
)
"""Body sites for the <select>, grouped by region (head first), each in the catalogue's order."""

CONSENT_METHODS = tuple(ConsentMethod)

FIELD_MESSAGES = {
    "file": "Take or choose a photo.",
    "body_site": "Choose the body site.",
    "laterality": "Choose the side: Right, Left or Both sides.",
    "view": "Choose overview, close-up or dermoscopic.",
    "captured_at": "The phone's date or time looks wrong. Check its clock, then send again.",
    "consent_method": "Consent in the patient's best interests covers the clinical record only. "
    "Turn off teaching and publication, or choose verbal or written consent.",
}
"""What a clinician reads for a field the API describes in developer terms."""

PANEL = "capture-panel"


@dataclass(frozen=True, slots=True)
class CaptureValues:
    """What the form shows. After a photo is stored, the tags and consent carry over."""

    capture_id: str
    body_site: str = ""
    laterality: str = ""
    view: str = ""
    description: str = ""
    consent_clinical: bool = True
    consent_teaching: bool = False
    consent_publication: bool = False
    consent_method: str = ConsentMethod.VERBAL.value
    sensitive: bool = False
    captured_at: str = ""

    def next_photo(self) -> CaptureValues:
        """A fresh form for the next photo: new capture_id, same tags and consent."""
        return replace(self, capture_id=new_capture_id(), description="", captured_at="")


def new_capture_id() -> str:
    return str(uuid.uuid4())


@dataclass
class CaptureForm:
    """The page's multipart form. An unticked checkbox sends nothing: absent means "no"."""

    file: UploadFile | None = None
    body_site: str | None = None
    laterality: str | None = None
    view: str | None = None
    description: str | None = None
    consent_clinical: str | None = None
    consent_teaching: str | None = None
    consent_publication: str | None = None
    consent_method: str | None = None
    sensitive: str | None = None
    capture_id: str | None = None
    captured_at: str | None = None

    def values(self) -> CaptureValues:
        return CaptureValues(
            capture_id=_capture_id(self.capture_id),
            body_site=(self.body_site or "").strip(),
            laterality=(self.laterality or "").strip(),
            view=(self.view or "").strip(),
            description=self.description or "",
            consent_clinical=bool(self.consent_clinical),
            consent_teaching=bool(self.consent_teaching),
            consent_publication=bool(self.consent_publication),
            consent_method=(self.consent_method or "").strip() or ConsentMethod.VERBAL.value,
            sensitive=bool(self.sensitive),
            captured_at=(self.captured_at or "").strip(),
        )

    def photo_form(self, context: PatientContext) -> PhotoForm:
        chosen = self.file if self.file is not None and self.file.filename else None
        values = self.values()
        return PhotoForm(
            file=chosen,
            patient_id=context.patient.mrn,
            issuer=context.patient.issuer,
            body_site=values.body_site,
            laterality=values.laterality,
            view=values.view,
            description=values.description,
            consent_clinical=_flag(values.consent_clinical),
            consent_teaching=_flag(values.consent_teaching),
            consent_publication=_flag(values.consent_publication),
            consent_method=values.consent_method,
            sensitive=_flag(values.sensitive),
            capture_id=values.capture_id,
            captured_at=values.captured_at or None,
        )


def _capture_id(raw: str | None) -> str:
    """The form's capture_id; a fresh one when it is missing or mangled (the server issues them,
    so a broken one can only be a stale or tampered page: the retry then counts as new)."""
    try:
        return str(uuid.UUID((raw or "").strip()))
    except ValueError:
        return new_capture_id()


def _flag(value: bool) -> str:
    return "true" if value else "false"


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


def check_without_photo(form: PhotoForm) -> InvalidInput:
    """The error for a form sent without a photo, listing every other problem too."""
    errors = {"file": FIELD_MESSAGES["file"]}
    try:
        check_submission(raw_submission(form), now=datetime.now().astimezone())
    except ConsentRequired as exc:
        errors["consent_clinical"] = exc.detail
    except InvalidInput as exc:
        errors.update(exc.errors)
    return InvalidInput("The photo was not stored.", errors=errors)


def _patient(runtime: NamedDependency[Runtime], mrn: str, issuer: str | None) -> PatientContext:
    with runtime.db.session() as session:
        return load_patient(session, mrn, issuer)


def _panel(
    request: Request[Any, Any, Any],
    context: PatientContext,
    values: CaptureValues,
    *,
    status: int = 200,
    stored: StoredPhoto | None = None,
    stored_label: str = "",
    problem: PointcareError | None = None,
) -> Response[Any]:
    data = {
        **context.as_context(),
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
    context = load_patient(db, mrn, issuer)
    actor = audit.actor_of(request, request.user)
    audit.record_now(runtime.db, *audit.patient_opened(actor, context.patient, page="capture"))
    return _panel(request, context, CaptureValues(capture_id=new_capture_id()))


@post("/patients/{mrn:str}/photos", include_in_schema=False)
async def capture_photo(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """Store one photo; answer with the outcome and a fresh form for the next one."""
    context = await anyio.to_thread.run_sync(_patient, runtime, mrn, issuer)
    values = data.values()
    form = data.photo_form(context)
    try:
        if form.file is None:
            raise check_without_photo(form)
        stored = await store_photo(
            runtime, principal, form, actor=audit.actor_of(request, principal)
        )
    except PointcareError as exc:
        return _panel(request, context, values, status=exc.status_code, problem=exc)
    # An unpaired site sent without a side is recorded as U: its label has no side.
    label = site_with_side(values.body_site, values.laterality or "U")
    return _panel(
        request,
        context,
        values.next_photo(),
        status=201 if stored.created else 200,
        stored=stored,
        stored_label=label,
    )
