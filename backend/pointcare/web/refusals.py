"""Every refusal of a signed-in user is in the audit trail: a role that may not, a sealed photo, a
patient other than the EHR's, a form that did not come from Pointcare.

An ``after_exception`` hook (it sees every exception, wherever it was raised: a guard, a
handler, a service) records one ``access.refused`` event per refused request, with the patient
and the objects it concerned: those the code that refused named (``Forbidden.patient_id``,
``.objects``), else those the address names (an MRN, DICOM UIDs). Anonymous refusals (a sign-in
form without its CSRF token) name nobody and are not recorded; refused sign-ins and launches
have events of their own.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import Scope
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.audit.events import MAX_OBJECTS
from pointcare.auth.principal import Principal
from pointcare.db.models import Patient
from pointcare.errors import Forbidden, PointcareError
from pointcare.identity.directory import find_by_mrn
from pointcare.runtime import Runtime

_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
UID_PARAMETERS = ("study", "series", "instance", "sop")


async def audit_refusal(exc: Exception, scope: Scope) -> None:
    """``after_exception`` hook of the app."""
    principal = scope.get("user")
    refused = isinstance(exc, PermissionDeniedException | Forbidden)
    if not refused or not isinstance(principal, Principal) or scope["type"] != ScopeType.HTTP:
        return
    request: Request[Any, Any, Any] = Request(scope)
    runtime: Runtime = request.app.state.runtime
    await anyio.to_thread.run_sync(_record, runtime, request, principal, exc)


def _record(
    runtime: Runtime, request: Request[Any, Any, Any], principal: Principal, exc: Exception
) -> None:
    params = request.path_params
    named = exc.objects if isinstance(exc, Forbidden) else ()
    objects = named or tuple(
        str(params[name])
        for name in UID_PARAMETERS
        if isinstance(params.get(name), str) and _UID.fullmatch(params[name])
    )
    with runtime.db.session() as session:
        patient = _patient(session, request, exc)
    detail = exc.detail if isinstance(exc, PointcareError | PermissionDeniedException) else ""
    event = audit.AuditEvent(
        action=audit.AuditAction.ACCESS_REFUSED,
        actor=audit.actor_of(request, principal),
        outcome=audit.Outcome.REFUSED,
        patient=patient,
        objects=objects[:MAX_OBJECTS],
        reason=str(detail) or "refused",
        details={"method": request.method, "path": request.url.path[:200]},
    )
    audit.record_now(runtime.db, event)


def _patient(
    session: Session, request: Request[Any, Any, Any], exc: Exception
) -> audit.PatientRef | None:
    """The patient the refused request concerned, if it can be told."""
    patient_id = exc.patient_id if isinstance(exc, Forbidden) else None
    if patient_id is not None:
        found = session.get(Patient, patient_id)
        return audit.PatientRef.of(found) if found is not None else None
    mrn = request.path_params.get("mrn")
    if isinstance(mrn, str):
        try:
            by_mrn = find_by_mrn(session, mrn, request.query_params.get("issuer") or None)
        except PointcareError:
            by_mrn = None  # malformed or ambiguous: the address names no one patient
        if by_mrn is not None:
            return audit.PatientRef.of(by_mrn)
    study = request.path_params.get("study")
    if isinstance(study, str) and _UID.fullmatch(study):
        return audit.patient_of_study(session, study)
    return None
