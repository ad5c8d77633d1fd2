"""App-wide guard for launch-bound sessions: a request about another patient is refused (403)
unless an explicit search in this session found that patient (``pointcare.launch.binding``).

The patient a request is about is named by an ``mrn`` path or query parameter (patient pages,
bedside confirmation, capture, export) or by a ``study`` path parameter (DICOMweb retrieve).
Unbound sessions and bearer tokens pass without a database query.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import select

from pointcare.auth.principal import Principal
from pointcare.db.models import Patient, Study
from pointcare.errors import Forbidden, PointcareError
from pointcare.identity.directory import find_by_mrn
from pointcare.launch.binding import check_may_open
from pointcare.runtime import Runtime

SEARCH_PATHS = frozenset({"/", "/bedside", "/api/v1/patients"})
"""Where an ``mrn`` query parameter is a search, which a bound session may always run."""


async def bound_patient_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal) or principal.bound_patient_id is None:
        return
    mrn = connection.path_params.get("mrn")
    if connection.url.path not in SEARCH_PATHS:
        mrn = mrn or connection.query_params.get("mrn")
    study = connection.path_params.get("study")
    if not mrn and not study:
        return
    runtime: Runtime = connection.app.state.runtime
    issuer = connection.query_params.get("issuer")
    await anyio.to_thread.run_sync(_check, runtime, principal, mrn, issuer, study)


def _check(
    runtime: Runtime, principal: Principal, mrn: str | None, issuer: str | None, study: str | None
) -> None:
    with runtime.db.session() as session:
        if mrn:
            try:
                patient = find_by_mrn(session, str(mrn), issuer or None)
            except PointcareError:
                return  # malformed or ambiguous: the page itself says so, and opens nothing
            if patient is not None:
                check_may_open(session, principal, patient)
        if study:
            owner = session.scalar(
                select(Patient).join(Study).where(Study.study_instance_uid == str(study))
            )
            if owner is None:
                raise Forbidden("This session was opened from the EHR for another patient.")
            check_may_open(session, principal, owner)
