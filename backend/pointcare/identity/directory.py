"""The patient directory: find, search and record patients.

Functions take a synchronous SQLAlchemy ``Session`` and never commit: writes are flushed and the
caller's transaction (``Database.write()``) decides. Every query is portable SQL (SQLite and
PostgreSQL): name search is ``LIKE`` on an escaped prefix of the folded ``name_key`` column.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pointcare.db.models import Patient
from pointcare.domain.patients import PatientIdentity, Sex, check_identifier
from pointcare.errors import Conflict, InvalidInput, NotFound
from pointcare.identity.names import NamePrefix, name_key, name_prefixes

MAX_SEARCH_RESULTS = 100
"""Upper bound of ``limit``: a longer list is no help in picking one patient."""

LIKE_ESCAPE = "/"
"""Escape character of our LIKE patterns; "/" needs no quoting in any SQL dialect."""


class Change(StrEnum):
    """What recording an identity did to the directory."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# --- Reading --------------------------------------------------------------------------------


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def find_by_mrn(session: Session, mrn: str, issuer: str | None = None) -> Patient | None:
    """The patient with this MRN (in any case, surrounding blanks ignored); with ``issuer`` None
    (or blank), under whichever issuer holds it.

    An MRN merged into another patient (ADT A40) finds the surviving patient. Raises ``Conflict``
    when, without an issuer, several issuers hold the MRN for different patients: guessing could
    file photos under the wrong patient.
    """
    try:
        wanted_mrn = check_identifier(mrn, "MRN")
        wanted_issuer = check_identifier(issuer, "issuer") if issuer and issuer.strip() else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    # MRNs are matched whatever their case (a typed "pc100005" is PC100005), as names are.
    query = select(Patient).where(func.upper(Patient.mrn) == wanted_mrn.upper())
    if wanted_issuer is not None:
        query = query.where(Patient.issuer == wanted_issuer)
    found = list(
        dict.fromkeys(current(session, p) for p in session.scalars(query.order_by(Patient.issuer)))
    )
    if len(found) > 1:
        issuers = ", ".join(p.issuer for p in found)
        raise Conflict(
            f"MRN {wanted_mrn} exists under several issuers ({issuers}); give the issuer as well",
            errors={"issuer": "required: the MRN is not unique across issuers"},
        )
    return found[0] if found else None


def current(session: Session, patient: Patient) -> Patient:
    """``patient``, or the patient it was merged into (merges are kept one hop deep)."""
    if patient.merged_into_id is None:
        return patient
    survivor = session.get(Patient, patient.merged_into_id)
    if survivor is None or survivor.merged_into_id is not None:
        raise RuntimeError(f"patient {patient.id} has a broken merge link")
    return survivor


def search(
    session: Session,
    *,
    name: str | None = None,
    birth_date: date | None = None,
    limit: int = 25,
) -> list[Patient]:
    """Patients whose name starts as ``name`` reads (see ``name_prefixes``) and/or born on
    ``birth_date``; ordered by name, then birth date. At least one criterion is required."""
    if name is not None and not name.strip():
        name = None
    if name is None and birth_date is None:
        raise InvalidInput(
            "give a name, a birth date or both to search for a patient",
            errors={"name": "name or birth date required"},
        )
    if not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_SEARCH_RESULTS}")
    query = select(Patient).where(Patient.merged_into_id.is_(None))
    if name is not None:
        try:
            query = query.where(name_matches(name))
        except ValueError as exc:
            raise InvalidInput(str(exc), errors={"name": str(exc)}) from None
    if birth_date is not None:
        query = query.where(Patient.birth_date == birth_date)
    query = query.order_by(
        Patient.name_key, Patient.birth_date.is_(None), Patient.birth_date, Patient.id
    ).limit(limit)
    return list(session.scalars(query))


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern that uses ``LIKE_ESCAPE``."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def name_matches(query: str) -> ColumnElement[bool]:
    """Patients whose name starts as ``query`` reads (``name_prefixes``): the name search of the
    home page. ``ValueError`` when it has too many words, or no letters or digits."""
    readings = name_prefixes(query)
    if not readings:
        raise ValueError("the name to search for has no letters or digits")
    return or_(*(_key_matches(reading) for reading in readings))


def _key_matches(reading: NamePrefix) -> ColumnElement[bool]:
    # Folded text holds only letters and digits, so escaping never fires today; it keeps the
    # pattern correct should the folding rule ever let "%" or "_" through.
    pattern = escape_like(reading.family) + "%"
    if reading.given is not None:
        # The key has exactly one space, between family and given name.
        pattern += " " + escape_like(reading.given) + "%"
    return Patient.name_key.like(pattern, escape=LIKE_ESCAPE)


def identity_of(patient: Patient) -> PatientIdentity:
    return PatientIdentity(
        mrn=patient.mrn,
        issuer=patient.issuer,
        family_name=patient.family_name,
        given_name=patient.given_name,
        birth_date=patient.birth_date,
        sex=Sex(patient.sex),
        visit_number=patient.visit_number,
    )


def same_name_exists(session: Session, patient: Patient) -> bool:
    """Whether another patient has the same folded family and given name (a look-alike)."""
    other = select(Patient.id).where(
        Patient.name_key == patient.name_key,
        Patient.id != patient.id,
        Patient.merged_into_id.is_(None),
    )
    return session.scalar(other.limit(1)) is not None


# --- Writing --------------------------------------------------------------------------------


def upsert_patient(
    session: Session, identity: PatientIdentity, *, keep_visit_number: bool = False
) -> tuple[Patient, bool]:
    """Record ``identity`` under its (issuer, MRN); returns the patient and whether it is new.

    See ``record_patient`` for what is replaced.
    """
    patient, change = record_patient(session, identity, keep_visit_number=keep_visit_number)
    return patient, change is Change.CREATED


def record_patient(
    session: Session, identity: PatientIdentity, *, keep_visit_number: bool = False
) -> tuple[Patient, Change]:
    """Create the patient, or replace its names, birth date, sex and visit number.

    The identity is the whole truth, visit number included (a stale visit would file photos
    under the wrong encounter), except with ``keep_visit_number``: feeds that carry no visit at
    all pass it so that their None leaves the stored visit alone.

    Raises ``Conflict`` for an MRN that was merged into another patient: its demographics are
    no longer kept, and changing the survivor through its old MRN would hide a late message.
    """
    wanted = normalised(identity)
    patient = _by_issuer_and_mrn(session, wanted.issuer, wanted.mrn)
    if patient is not None and patient.merged_into_id is not None:
        survivor = current(session, patient)
        raise Conflict(
            f"MRN {wanted.mrn} ({wanted.issuer}) was merged into MRN {survivor.mrn} "
            f"({survivor.issuer}); record the surviving patient instead",
            errors={"mrn": "merged into another patient"},
        )
    if patient is None:
        try:
            return _insert(session, wanted), Change.CREATED
        except IntegrityError:
            # Another transaction inserted the same (issuer, MRN) first: update that row instead.
            patient = _by_issuer_and_mrn(session, wanted.issuer, wanted.mrn)
            if patient is None:
                raise
    if keep_visit_number and wanted.visit_number is None:
        wanted = replace(wanted, visit_number=patient.visit_number)
    if identity_of(patient) == wanted:
        return patient, Change.UNCHANGED
    _assign(patient, wanted)
    session.flush()
    return patient, Change.UPDATED


def normalised(identity: PatientIdentity) -> PatientIdentity:
    """``identity`` as stored: identifiers stripped, names in NFC with single spaces.

    NFC because a name typed on a Mac or read from some files arrives decomposed ("A" + ring),
    and the banner, DICOM and exact comparisons should all see one spelling.
    """
    return replace(
        identity,
        mrn=identity.mrn.strip(),
        issuer=identity.issuer.strip(),
        family_name=_clean_name(identity.family_name),
        given_name=_clean_name(identity.given_name),
        visit_number=identity.visit_number.strip() if identity.visit_number else None,
    )


def _clean_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split())


def by_issuer_and_mrn(session: Session, issuer: str, mrn: str) -> Patient | None:
    """The record under exactly this (issuer, MRN), merged or not."""
    return _by_issuer_and_mrn(session, issuer, mrn)


def _by_issuer_and_mrn(session: Session, issuer: str, mrn: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.issuer == issuer, Patient.mrn == mrn))


def _insert(session: Session, identity: PatientIdentity) -> Patient:
    patient = Patient()
    _assign(patient, identity)
    # In a savepoint, so that losing an insert race (IntegrityError on the unique issuer and
    # MRN) leaves the caller's transaction usable.
    with session.begin_nested():
        session.add(patient)
    return patient


def _assign(patient: Patient, identity: PatientIdentity) -> None:
    patient.mrn = identity.mrn
    patient.issuer = identity.issuer
    patient.family_name = identity.family_name
    patient.given_name = identity.given_name
    patient.name_key = name_key(identity.family_name, identity.given_name)
    patient.birth_date = identity.birth_date
    patient.sex = identity.sex.value
    patient.visit_number = identity.visit_number


__all__ = [
    "LIKE_ESCAPE",
    "MAX_SEARCH_RESULTS",
    "Change",
    "by_issuer_and_mrn",
    "current",
    "escape_like",
    "find_by_mrn",
    "get_patient",
    "identity_of",
    "name_key",
    "normalised",
    "record_patient",
    "same_name_exists",
    "search",
    "upsert_patient",
]
