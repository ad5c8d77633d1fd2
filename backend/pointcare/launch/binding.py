"""Launch-bound sessions: a session opened from the EHR sees its own patient, others only after
an explicit search.

The EHR put the user in one patient's context; browsing to another patient by editing a URL
must not work. Searching (by MRN, or name and birth date) is the deliberate step: the patients a
search in this session found become openable for the rest of the session (the search itself is
audited by the search page). Sessions that did not come from a launch are not bound.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.auth.principal import Principal
from pointcare.db.engine import Database
from pointcare.db.models import LaunchSessionPatient, Patient
from pointcare.errors import Forbidden
from pointcare.identity.directory import current


def may_open(session: Session, principal: Principal, patient: Patient) -> bool:
    bound = principal.bound_patient_id
    if bound is None or principal.session_id is None:
        return True
    wanted = current(session, patient).id
    bound_patient = session.get(Patient, bound)
    if bound_patient is not None and current(session, bound_patient).id == wanted:
        return True
    granted = session.scalar(
        select(LaunchSessionPatient.patient_id).where(
            LaunchSessionPatient.session_id == principal.session_id,
            LaunchSessionPatient.patient_id == wanted,
        )
    )
    return granted is not None


def openable_patient_ids(session: Session, principal: object) -> set[int] | None:
    """The patients a launch-bound session may see (its own, and those a search found), for
    searches that span patients (QIDO-RS); ``None`` for a session that is not bound."""
    if not isinstance(principal, Principal):
        return None
    bound = principal.bound_patient_id
    if bound is None or principal.session_id is None:
        return None
    ids = {bound}
    bound_patient = session.get(Patient, bound)
    if bound_patient is not None:
        ids.add(current(session, bound_patient).id)
    ids.update(
        session.scalars(
            select(LaunchSessionPatient.patient_id).where(
                LaunchSessionPatient.session_id == principal.session_id
            )
        )
    )
    return ids


def check_may_open(session: Session, principal: Principal, patient: Patient) -> None:
    """Refuse (403) a launch-bound session that reaches another patient without a search."""
    if not may_open(session, principal, patient):
        raise Forbidden(
            "This session was opened from the EHR for another patient. To open this patient, "
            "find them with Find patient (search by MRN, or name and birth date)."
        )


def allow_found(session: Session, principal: Principal, patients: Iterable[Patient]) -> None:
    """A launch-bound session searched and found ``patients``: they may now be opened."""
    if principal.bound_patient_id is None or principal.session_id is None:
        return
    have = set(
        session.scalars(
            select(LaunchSessionPatient.patient_id).where(
                LaunchSessionPatient.session_id == principal.session_id
            )
        )
    )
    for patient_id in {current(session, p).id for p in patients} - have:
        session.add(LaunchSessionPatient(session_id=principal.session_id, patient_id=patient_id))
    session.flush()


def remember_search(db: Database, principal: object, patients: Iterable[Patient]) -> None:
    """``allow_found`` in a transaction of its own; nothing at all for unbound callers."""
    found = list(patients)
    if not isinstance(principal, Principal) or principal.bound_patient_id is None or not found:
        return
    with db.write() as session:
        allow_found(session, principal, [session.get_one(Patient, p.id) for p in found])
