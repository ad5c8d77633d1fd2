"""The "break the glass" step: a reviewer says why they must see a patient's sensitive photos.

GET shows the form; POST checks the reason, records a time-limited grant for this user and
patient together with its ``break_glass`` audit event (one transaction), and goes back to
the photo. Clinicians and admins only, like the review pages it leads to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from pointcare import audit
from pointcare.access import glass
from pointcare.auth.principal import Principal
from pointcare.errors import InvalidInput
from pointcare.runtime import Runtime
from pointcare.web.pages.common import PatientContext, load_patient, page, record_opened, safe_next
from pointcare.web.security import REVIEW

PATH = "/patients/{mrn:str}/break-glass"


@dataclass
class GlassForm:
    reason: str = ""
    next: str = ""


def _back(context: PatientContext, raw: str | None) -> str:
    target = safe_next(raw)
    return context.urls.review if target == "/" else target


def _form_page(
    runtime: Runtime,
    context: PatientContext,
    *,
    back: str,
    reason: str = "",
    problem: InvalidInput | None = None,
) -> Response[Any]:
    return page(
        "pages/break_glass.html",
        status=problem.status_code if problem else 200,
        **context.as_context(),
        back=back,
        reason=reason,
        problem=problem,
        errors=problem.errors if problem else {},
        minutes=runtime.settings.break_glass_minutes,
        reason_min=glass.REASON_MIN,
        reason_max=glass.REASON_MAX,
    )


@get(PATH, guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def break_glass_page(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
    next: FromQuery[str | None] = None,
) -> Response[Any]:
    with runtime.db.session() as session:
        context = load_patient(session, mrn, issuer)
        record_opened(request, runtime, context, page="break the glass")
        return _form_page(runtime, context, back=_back(context, next))


@post(PATH, guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def break_glass(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    data: Annotated[GlassForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    with runtime.db.write() as session:
        context = load_patient(session, mrn, issuer)
        back = _back(context, data.next)
        try:
            record = glass.grant(
                session,
                user_id=principal.user_id,
                patient_id=context.patient.id,
                reason=data.reason,
                minutes=runtime.settings.break_glass_minutes,
            )
        except InvalidInput as problem:
            return _form_page(runtime, context, back=back, reason=data.reason, problem=problem)
        audit.record(
            session,
            audit.AuditEvent(
                action=audit.AuditAction.BREAK_GLASS,
                actor=audit.actor_of(request, principal),
                patient=audit.PatientRef.of(context.patient),
                reason=record.reason,
                details={"grant_minutes": runtime.settings.break_glass_minutes},
            ),
        )
    return Redirect(back, status_code=303)
