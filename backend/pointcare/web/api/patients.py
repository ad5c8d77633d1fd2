"""GET /api/v1/patients: find a patient by MRN, or by name and birth date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.db.models import Patient
from pointcare.errors import InvalidInput
from pointcare.identity.directory import find_by_mrn, search
from pointcare.launch.binding import check_search
from pointcare.runtime import Runtime


@dataclass
class PatientOut:
    mrn: str
    issuer: str
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str
    visit_number: str | None


def patient_out(patient: Patient) -> PatientOut:
    return PatientOut(
        patient.mrn,
        patient.issuer,
        patient.family_name,
        patient.given_name,
        patient.birth_date,
        patient.sex,
        patient.visit_number,
    )


def parse_birth_date(raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"birth_date must be a date like 1950-03-31, got {raw!r}",
            errors={"birth_date": "not a date (YYYY-MM-DD)"},
        ) from None


@get("/api/v1/patients", tags=["patients"], sync_to_thread=True)
def find_patients(
    request: Request[Principal, Any, Any],
    db: Session,
    runtime: Runtime,
    identifier: str | None = None,
    issuer: str | None = None,
    name: str | None = None,
    birth_date: str | None = None,
) -> list[PatientOut]:
    """By ``identifier`` (MRN, optionally with ``issuer``), or by ``name`` and/or ``birth_date``."""
    born = parse_birth_date(birth_date)
    check_search(request.user, mrn=identifier, name=name, birth_date=born)
    if identifier is not None and identifier.strip():
        patient = find_by_mrn(db, identifier.strip(), issuer.strip() if issuer else None)
        found = [patient] if patient else []
        criteria = ["mrn"]
    else:
        found = search(db, name=name, birth_date=born)
        criteria = [key for key, value in (("name", name), ("birth_date", birth_date)) if value]
    event = audit.patient_search(
        audit.actor_of(request, request.user), criteria=criteria, found=found, via="api"
    )
    audit.record_now(runtime.db, event)
    return [patient_out(p) for p in found]
