"""Correcting a photo: wrong patient, wrong details, or poor quality / duplicate (IHE IOCM).

A plain form on its own page, reached from the photo. Moving to another patient takes two
steps: the MRN typed first brings up that patient's confirmation card (name, birth date, sex,
MRN), and the move is made only once the user ticks that they checked it: a photo is never
attached to a patient the user did not confirm. Admins list rejected objects on
``/admin/rejected``; nothing is deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.corrections.service import (
    Correction,
    CorrectionKind,
    DetailChanges,
    correct,
    series_of,
)
from pointcare.db.models import Instance, Patient, RejectionNote
from pointcare.domain.body_sites import Laterality, body_site, parse_aspect
from pointcare.domain.views import View
from pointcare.errors import InvalidInput, PointcareError
from pointcare.identity.directory import find_by_mrn, identity_of, same_name_exists
from pointcare.launch.binding import check_may_open
from pointcare.runtime import Runtime
from pointcare.web.pages.capture import SITE_GROUPS
from pointcare.web.pages.common import (
    PatientContext,
    PatientUrls,
    load_patient,
    page,
    record_opened,
)
from pointcare.web.pages.gallery import photo_detail
from pointcare.web.security import ADMIN, REVIEW

CORRECT = "/patients/{mrn:str}/photos/{sop:str}/correct"


@dataclass
class CorrectionForm:
    """The form's fields, as text. Empty detail fields keep the photo's own values."""

    kind: str = ""
    scope: str = "photo"
    reason: str = ""
    token: str = ""
    target_mrn: str = ""
    target_issuer: str = ""
    target_confirmed: str = ""
    body_site: str = ""
    laterality: str = ""
    aspect: str = ""
    view: str = ""
    description: str = ""


def _render(
    db: Session,
    context: PatientContext,
    sop: str,
    form: CorrectionForm,
    *,
    problem: PointcareError | None = None,
    target: Patient | None = None,
) -> Response[Any]:
    detail = photo_detail(db, context.patient, sop)
    return page(
        "pages/correct.html",
        status=problem.status_code if problem else 200,
        **context.as_context(),
        photo=detail,
        session_count=len(series_of(db, detail.instance)),
        form=form,
        target=identity_of(target) if target is not None else None,
        target_same_name=target is not None and same_name_exists(db, target),
        site_groups=SITE_GROUPS,
        kinds=list(CorrectionKind),
        problem=problem,
        errors=problem.errors if problem else {},
        action=context.urls.correct(sop),
    )


@get(CORRECT, guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def correct_page(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    record_opened(request, runtime, context, page="correct", listed=[sop])
    return _render(db, context, sop, CorrectionForm(token=str(uuid.uuid4())))


def _target(db: Session, principal: Principal, form: CorrectionForm) -> Patient | None:
    """The patient typed for a move (one this session may open: its card shows who they are);
    422 when there is none such."""
    if not form.target_mrn.strip():
        raise InvalidInput(
            "The correction was not made.",
            errors={"target_mrn": "Type the MRN of the right patient."},
        )
    found = find_by_mrn(db, form.target_mrn.strip(), form.target_issuer.strip() or None)
    if found is None:
        raise InvalidInput(
            "The correction was not made.",
            errors={"target_mrn": f"No patient with MRN {form.target_mrn.strip()} is known."},
        )
    check_may_open(db, principal, found)
    return found


def _correction(db: Session, principal: Principal, form: CorrectionForm) -> tuple[Correction, bool]:
    """The correction the form asks for, and whether it still needs the user to confirm the
    target patient (a move whose target was just looked up)."""
    try:
        kind = CorrectionKind(form.kind)
    except ValueError:
        raise InvalidInput(
            "The correction was not made.", errors={"kind": "Choose what is wrong."}
        ) from None
    target = _target(db, principal, form) if kind is CorrectionKind.PATIENT else None
    details = _details(form) if kind is CorrectionKind.DETAILS else DetailChanges()
    correction = Correction(kind, form.reason, form.token, target=target, details=details)
    needs_confirmation = kind is CorrectionKind.PATIENT and form.target_confirmed != "true"
    return correction, needs_confirmation


def _details(form: CorrectionForm) -> DetailChanges:
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    try:
        changes["site"] = body_site(form.body_site) if form.body_site else None
    except ValueError:
        errors["body_site"] = "Choose a body site from the list."
    try:
        changes["laterality"] = Laterality(form.laterality) if form.laterality else None
    except ValueError:
        errors["laterality"] = "Choose Right, Left or Both sides."
    try:
        changes["aspect"] = parse_aspect(form.aspect)
    except ValueError:
        errors["aspect"] = "Choose the front, back or another face from the list."
    try:
        changes["view"] = View(form.view) if form.view else None
    except ValueError:
        errors["view"] = "Choose overview, close-up or dermoscopic."
    description = form.description.strip()
    changes["description"] = description or None
    if errors:
        raise InvalidInput("The correction was not made.", errors=errors)
    if not any(value is not None for value in changes.values()):
        raise InvalidInput(
            "The correction was not made.",
            errors={"body_site": "Change at least one of site, side, aspect, view or description."},
        )
    return DetailChanges(**changes)


@post(CORRECT, guards=[REVIEW], status_code=200, include_in_schema=False)
async def correct_photo(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    sop: FromPath[str],
    data: Annotated[CorrectionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    actor = audit.actor_of(request, principal)

    def run() -> Response[Any]:
        with runtime.db.session() as db:
            context = load_patient(db, mrn, issuer)
            try:
                correction, confirm = _correction(db, principal, data)
                if confirm:
                    return _render(db, context, sop, data, target=correction.target)
                instance = photo_detail(db, context.patient, sop).instance
                chosen = series_of(db, instance) if data.scope == "session" else [sop]
            except InvalidInput as problem:
                return _render(db, context, sop, data, problem=problem)
        result = correct(runtime, principal, actor, context.patient, chosen, correction)
        target = correction.target or context.patient
        return page(
            "pages/corrected.html",
            **context.as_context(),
            kind=correction.kind,
            result=result,
            target=identity_of(target),
            target_urls=PatientUrls.of(target),
        )

    return await anyio.to_thread.run_sync(run)


# --- Admin: what was rejected ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RejectedRow:
    note: RejectionNote
    rejected: list[Instance]
    copies: dict[int, str]
    """Rejected instance id -> SOP Instance UID of the copy that replaces it."""


@get("/admin/rejected", guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def rejected_page(db: NamedDependency[Session]) -> Response[Any]:
    """Every rejection note, newest first, with the objects it rejected and their copies."""
    notes = list(
        db.scalars(
            select(RejectionNote)
            .options(
                joinedload(RejectionNote.created_by),
                joinedload(RejectionNote.instance).joinedload(Instance.patient),
            )
            .order_by(RejectionNote.created_at.desc(), RejectionNote.instance_id.desc())
            .limit(500)
        )
    )
    rejected = list(
        db.scalars(
            select(Instance).where(Instance.rejected_by_id.in_([n.instance_id for n in notes]))
        )
    )
    replacing = db.execute(
        select(Instance.replaces_id, Instance.sop_instance_uid).where(
            Instance.replaces_id.in_([r.id for r in rejected])
        )
    ).all()
    copies = {replaced: copy for replaced, copy in replacing if replaced is not None}
    rows = [
        RejectedRow(note, [r for r in rejected if r.rejected_by_id == note.instance_id], copies)
        for note in notes
    ]
    return page("pages/admin_rejected.html", rows=rows)
