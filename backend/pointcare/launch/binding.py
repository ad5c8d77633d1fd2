"""Launch-bound sessions: a session opened from the EHR sees its own patient, others only after
an explicit search.

The EHR put the user in one patient's context; browsing to another patient by editing a URL,
or by naming them in a form, must not work. ``check_may_open`` is the one check every patient a
request names goes through, wherever the name comes from: a path or query (the app-wide guard,
``pointcare.web.launch_binding``), a form field (the photo and document uploads, where the
patient is resolved), a correction's target patient.

Searching is the deliberate step, and for a bound session it must name one patient as the
EHR would: by a full MRN, or by a name of at least two letters with the birth date
(``check_search``); a wristband scan names a full identifier. The patients such a search found
become openable for the rest of the session (the search itself is audited by the search page).
Sessions that did not come from a launch are not bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.auth.principal import Principal
from pointcare.db.engine import Database
from pointcare.db.models import LaunchSessionPatient, Patient
from pointcare.errors import Forbidden, InvalidInput
from pointcare.identity.directory import current

MIN_NAME_LETTERS = 2
NARROW_SEARCH = (
    "This session was opened from the EHR for one patient. To find another, give their full "
    "MRN, or their name (at least two letters) and birth date."
)


def is_bound(principal: object) -> bool:
    return (
        isinstance(principal, Principal)
        and principal.bound_patient_id is not None
        and principal.session_id is not None
    )


def check_search(
    principal: object, *, mrn: str | None, name: str | None, birth_date: date | None
) -> None:
    """A bound session's search must name one patient: a full MRN (MRNs are matched whole),
    or a name of at least ``MIN_NAME_LETTERS`` letters with the birth date. ``InvalidInput``
    otherwise: 26 searches by one letter would open every patient."""
    if not is_bound(principal) or (mrn and mrn.strip()):
        return
    letters = sum(1 for ch in name or "" if ch.isalpha())
    if letters < MIN_NAME_LETTERS or birth_date is None:
        raise InvalidInput(
            NARROW_SEARCH,
            errors={
                "name": f"At least {MIN_NAME_LETTERS} letters of the name, with the birth date.",
                "birth_date": "The birth date, with the name.",
            },
        )


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
    """The binding check: refuse (403) a launch-bound session that names another patient it
    did not find with a search. Call it wherever a patient named by a request is resolved."""
    if not may_open(session, principal, patient):
        raise Forbidden(
            "This session was opened from the EHR for another patient. To open this patient, "
            "find them with Find patient (search by MRN, or name and birth date).",
            patient_id=patient.id,
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


def remember_search(
    db: Database,
    principal: object,
    patients: Iterable[Patient],
    *,
    mrn: str | None = None,
    name: str | None = None,
    birth_date: date | None = None,
) -> None:
    """``allow_found`` in a transaction of its own, for a search that names one patient
    (``check_search``: a full MRN, or a name and birth date); nothing for unbound callers."""
    found = list(patients)
    if not isinstance(principal, Principal) or not is_bound(principal) or not found:
        return
    check_search(principal, mrn=mrn, name=name, birth_date=birth_date)
    with db.write() as session:
        allow_found(session, principal, [session.get_one(Patient, p.id) for p in found])
