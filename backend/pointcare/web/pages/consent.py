"""Consent over time: give or withdraw teaching and publication consent after capture.

One page per patient, focused on one photo when the link came from a photo: what is in force
now, the history of changes, and a form to record a new one. Clinicians and admins only; every
change is audited in the same transaction that records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.consent.changes import (
    ChangeRequest,
    ConsentScope,
    consent_in_force,
    history,
    record_change,
)
from pointcare.corrections.visibility import images_in_force
from pointcare.db.models import ConsentRecord, Instance, Patient
from pointcare.domain.consent import ConsentMethod
from pointcare.errors import InvalidInput, NotFound
from pointcare.runtime import Runtime
from pointcare.web.pages.common import PatientContext, load_patient, page, record_opened
from pointcare.web.security import REVIEW


@dataclass
class ConsentForm:
    scope: str = ""
    granted: str = ""
    method: str = ""
    note: str = ""


def _photo(session: Session, patient: Patient, sop: str | None) -> Instance | None:
    if not sop:
        return None
    instance = session.scalar(
        select(Instance)
        .where(
            Instance.sop_instance_uid == sop, Instance.patient_id == patient.id, images_in_force()
        )
        .options(joinedload(Instance.consent).joinedload(ConsentRecord.recorded_by))
    )
    if instance is None:
        raise NotFound("This photo is not in this patient's record.")
    return instance


def _render(
    session: Session,
    context: PatientContext,
    photo: Instance | None,
    *,
    form: ConsentForm | None = None,
    problem: InvalidInput | None = None,
    recorded: bool = False,
) -> Response[Any]:
    photos = (
        [photo]
        if photo is not None
        else list(
            session.scalars(
                select(Instance)
                .where(Instance.patient_id == context.patient.id, images_in_force())
                .options(joinedload(Instance.consent))
            )
        )
    )
    in_force = consent_in_force(session, photos)
    return page(
        "pages/consent.html",
        status=problem.status_code if problem else 200,
        **context.as_context(),
        photo=photo,
        where=photo.where if photo else "",
        now=in_force.get(photo.id) if photo else None,
        teaching_count=sum(1 for c in in_force.values() if c.teaching),
        publication_count=sum(1 for c in in_force.values() if c.publication),
        photo_count=len(photos),
        changes=history(session, context.patient, photo),
        scopes=list(ConsentScope),
        methods=list(ConsentMethod),
        form=form or ConsentForm(),
        errors=problem.errors if problem else {},
        problem=problem,
        recorded=recorded,
    )


@get("/patients/{mrn:str}/consent", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def consent_page(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
    photo: FromQuery[str | None] = None,
    recorded: FromQuery[bool] = False,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    shown = _photo(db, context.patient, photo)
    listed = [shown.sop_instance_uid] if shown is not None else []
    record_opened(request, runtime, context, page="consent", listed=listed)
    return _render(db, context, shown, recorded=recorded)


@post("/patients/{mrn:str}/consent", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def change_consent(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    data: Annotated[ConsentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    issuer: FromQuery[str | None] = None,
    photo: FromQuery[str | None] = None,
) -> Response[Any]:
    """Record the change (and its audit event) in one transaction, then show the page again."""
    try:
        change = ChangeRequest.parse(
            scope=data.scope, granted=data.granted, method=data.method, note=data.note
        )
    except InvalidInput as problem:
        context = load_patient(db, mrn, issuer)
        return _render(db, context, _photo(db, context.patient, photo), form=data, problem=problem)
    with runtime.db.write() as session:
        context = load_patient(session, mrn, issuer)
        instance = _photo(session, context.patient, photo)
        record_change(
            session, context.patient, change, recorded_by=principal.user_id, instance=instance
        )
        audit.record(
            session,
            audit.AuditEvent(
                action=audit.AuditAction.CONSENT_CHANGED,
                actor=audit.actor_of(request, principal),
                patient=audit.PatientRef.of(context.patient),
                objects=(instance.sop_instance_uid,) if instance else (),
                details={
                    "scope": change.scope.value,
                    "granted": change.granted,
                    "method": change.method.value,
                    "applies_to": "photo" if instance else "patient",
                },
            ),
        )
        target = context.urls.consent(instance.sop_instance_uid if instance else None)
    return Redirect(f"{target}&recorded=true", status_code=303)
