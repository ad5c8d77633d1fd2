"""Home: find the patient, by MRN or by name and birth date."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.db.models import Patient
from pointcare.domain.patients import PatientIdentity
from pointcare.errors import InvalidInput, PointcareError
from pointcare.identity.directory import find_by_mrn, identity_of, search
from pointcare.launch.binding import check_search, remember_search
from pointcare.runtime import Runtime
from pointcare.settings_review import review_settings
from pointcare.web.api.patients import parse_birth_date
from pointcare.web.pages.common import PatientUrls, fragment, is_htmx, page

BIRTH_DATE_FORMAT = "Type the birth date as YYYY-MM-DD, for example 1950-03-31."


@dataclass
class PatientSearch:
    """What was asked, what was found, and what to tell the user about it."""

    mrn: str = ""
    name: str = ""
    birth_date: str = ""
    asked: bool = False
    results: list[tuple[PatientIdentity, PatientUrls]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    found: list[Patient] = field(default_factory=list)

    @property
    def criteria(self) -> list[str]:
        """What the search was by (for the audit trail, which never holds the typed name)."""
        if self.mrn:
            return ["mrn"]
        return [
            name for name, value in (("name", self.name), ("birth_date", self.birth_date)) if value
        ]


def record_search(runtime: Runtime, actor: audit.Actor, query: PatientSearch, *, via: str) -> None:
    """Audit a search that ran (not one refused for its input)."""
    if query.asked and not query.errors:
        event = audit.patient_search(actor, criteria=query.criteria, found=query.found, via=via)
        audit.record_now(runtime.db, event)


def find(session: Session, mrn: str, name: str, birth_date: str) -> PatientSearch:
    query = PatientSearch(mrn=mrn, name=name, birth_date=birth_date)
    if mrn:
        query.asked = True
        try:
            found = find_by_mrn(session, mrn)
        except PointcareError as exc:  # a malformed MRN, or one held by several issuers
            query.errors["mrn"] = exc.detail[:1].upper() + exc.detail[1:] + "."
            return query
        query.found = [found] if found is not None else []
        query.results = [_found(patient) for patient in query.found]
    elif name or birth_date:
        query.asked = True
        try:
            born = parse_birth_date(birth_date)
        except InvalidInput:
            query.errors["birth_date"] = BIRTH_DATE_FORMAT
            return query
        try:
            found_all = search(session, name=name or None, birth_date=born)
        except InvalidInput as exc:
            query.errors["name"] = exc.detail
            return query
        except ValueError as exc:  # the name rules speak in lower case: "a name search takes..."
            query.errors["name"] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
            return query
        query.found = list(found_all)
        query.results = [_found(patient) for patient in query.found]
    return query


def _found(patient: Patient) -> tuple[PatientIdentity, PatientUrls]:
    return identity_of(patient), PatientUrls.of(patient)


def search_patients(
    request: Request[Any, Any, Any],
    db: Session,
    runtime: Runtime,
    *,
    mrn: str | None,
    name: str | None,
    birth_date: str | None,
    via: str,
) -> PatientSearch:
    """A search from a page: run, audited, and (for a session opened from the EHR) the
    patients it found may be opened from then on."""
    typed_name = " ".join((name or "").split())
    query = find(db, (mrn or "").strip(), typed_name, (birth_date or "").strip())
    if query.asked and not query.errors:
        try:  # a session opened from the EHR finds others only by what names one patient
            check_search(
                request.user,
                mrn=query.mrn,
                name=query.name,
                birth_date=parse_birth_date(query.birth_date),
            )
        except InvalidInput as exc:
            query.errors.update(exc.errors or {"name": exc.detail})
            query.errors["search"] = exc.detail
            query.found, query.results = [], []
    record_search(runtime, audit.actor_of(request, request.user), query, via=via)
    remember_search(
        runtime.db,
        request.user,
        query.found,
        mrn=query.mrn,
        name=query.name,
        birth_date=parse_birth_date(query.birth_date) if query.found else None,
    )
    return query


@get("/", sync_to_thread=True, include_in_schema=False)
def home(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromQuery[str | None] = None,
    name: FromQuery[str | None] = None,
    birth_date: FromQuery[str | None] = None,
) -> Response[Any]:
    query = search_patients(
        request, db, runtime, mrn=mrn, name=name, birth_date=birth_date, via="find-patient page"
    )
    status = 422 if query.errors else 200
    if is_htmx(request):
        return fragment("partials/_find_patient.html", target="find", status=status, query=query)
    settings = None
    if request.user.role.can_administer:  # the administrator's home: what is not set safely
        settings = review_settings(runtime.settings, over_https=request.url.scheme == "https")
    return page("pages/home.html", status=status, query=query, settings_review=settings)
