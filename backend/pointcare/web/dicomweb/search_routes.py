"""QIDO-RS routes (PS3.18 10.6): search studies, series and instances.

Each handler checks the path UIDs, negotiates the answer's media type, and calls ``qido``.
No match is answered 204 No Content, as the current text of PS3.18 says (8.3.4.4.1 and the
search transaction's status table); CP-2473, which would make it 200 with an empty body, is
not final text yet.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.db.models import Patient
from pointcare.dicom.json_model import JsonObject
from pointcare.launch.binding import openable_patient_ids
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.common import (
    SERIES,
    STUDY,
    AnyRequest,
    accept_of,
    checked,
    service_of,
    structured_answer,
)
from pointcare.web.dicomweb.matching import Level, parse_search
from pointcare.web.dicomweb.media import DICOM_JSON, choose_structured
from pointcare.web.dicomweb.qido import Scope, not_returned, run_search
from pointcare.web.security import REVIEW

DICOM_JSON_ANSWER = {
    200: ResponseSpec(
        data_container=list[dict[str, Any]],
        media_type=DICOM_JSON,
        description="DICOM JSON (PS3.18 F.2): an array with one object per match, or "
        'multipart/related; type="application/dicom+xml". 204 when nothing matches.',
        generate_examples=False,
    ),
    204: ResponseSpec(
        data_container=None,
        description="Nothing matches (PS3.18 8.3.4.4.1): no body.",
        generate_examples=False,
    ),
}
MORE_RESULTS = "There are additional results that can be requested."


def _search(
    request: AnyRequest, db: Session, runtime: Runtime, level: Level, scope: Scope
) -> Response[Any]:
    representation = choose_structured(accept_of(request))
    search = parse_search(request.query_params.multi_items(), level)
    openable = openable_patient_ids(db, request.user)
    if openable is not None:  # a session opened from the EHR searches only its patients
        search.conditions.append(Patient.id.in_(openable))
    service = service_of(request)
    result = run_search(db, search, scope, service=service)
    warnings = list(search.warnings)
    if unanswered := not_returned(search):
        warnings.append(f"These includefield attributes are not returned: {', '.join(unanswered)}.")
    if result.more:
        warnings.append(MORE_RESULTS)
    headers = {}
    if warnings:
        headers["Warning"] = ", ".join(f'299 {service}: "{text}"' for text in warnings)
    _audit_search(request, db, runtime, level, scope, result.objects)
    if not result.objects:
        return Response(content=None, status_code=204, headers=headers)
    return structured_answer(result.objects, representation, runtime, headers)


def _audit_search(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    level: Level,
    scope: Scope,
    objects: list[JsonObject],
) -> None:
    """One ``patient.search`` event per search, listing the patients whose objects it
    returned (a ``PatientName=*`` search included): named in the answer itself, or, within one
    study, the study's patient."""
    patients = {(_value(o, "00100020"), _value(o, "00100021")) for o in objects}
    if scope.study_uid is not None and objects:
        owner = audit.patient_of_study(db, scope.study_uid)
        patients = {(owner.mrn, owner.issuer)} if owner is not None else set()
    event = audit.dicomweb_search(
        audit.actor_of(request, request.user),
        parameters=request.query_params.keys(),
        patients=[(mrn, issuer) for mrn, issuer in patients if mrn],
        level=level.name.lower(),
        results=len(objects),
    )
    audit.record_now(runtime.db, event)


def _value(dataset: JsonObject, tag: str) -> str | None:
    values = dataset.get(tag, {}).get("Value") or [None]
    return str(values[0]) if values[0] is not None else None


class SearchController(Controller):
    path = links.PREFIX
    guards = [REVIEW]  # noqa: RUF012 - Litestar reads these class attributes
    tags = ["dicomweb"]  # noqa: RUF012

    @get("/studies", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_studies(self, request: AnyRequest, db: Session, runtime: Runtime) -> Response[Any]:
        """Search for studies (QIDO-RS)."""
        return _search(request, db, runtime, Level.STUDY, Scope())

    @get("/series", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_series(self, request: AnyRequest, db: Session, runtime: Runtime) -> Response[Any]:
        """Search for series in all studies (QIDO-RS)."""
        return _search(request, db, runtime, Level.SERIES, Scope())

    @get("/instances", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_instances(self, request: AnyRequest, db: Session, runtime: Runtime) -> Response[Any]:
        """Search for instances in all studies (QIDO-RS)."""
        return _search(request, db, runtime, Level.INSTANCE, Scope())

    @get(STUDY + "/series", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_study_series(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str
    ) -> Response[Any]:
        """Search for the series of a study (QIDO-RS)."""
        return _search(request, db, runtime, Level.SERIES, Scope(checked(study)[0]))

    @get(STUDY + "/instances", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_study_instances(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str
    ) -> Response[Any]:
        """Search for the instances of a study (QIDO-RS)."""
        return _search(request, db, runtime, Level.INSTANCE, Scope(checked(study)[0]))

    @get(SERIES + "/instances", sync_to_thread=True, responses=DICOM_JSON_ANSWER)
    def search_series_instances(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str, series: str
    ) -> Response[Any]:
        """Search for the instances of a series (QIDO-RS)."""
        study_uid, series_uid, _ = checked(study, series)
        return _search(request, db, runtime, Level.INSTANCE, Scope(study_uid, series_uid))
