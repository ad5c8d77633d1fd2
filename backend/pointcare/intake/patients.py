"""Which patient of the directory a received object is for: never guessed.

The object's Patient ID (with its issuer, when it names one) must be a patient of the directory,
and at least one more identifier it carries (name, birth date) must agree with that patient,
with none contradicting it, as at the bedside: two identifiers. Names agree when they fold alike
(``identity.names``: case, accents and punctuation aside). A Patient ID merged into another
record (HL7 ADT A40) is refused with the one to use instead: the object would say one ID and be
filed under another.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.db.models import Patient
from pointcare.dicom import store_status as status
from pointcare.identity.directory import current
from pointcare.identity.names import fold
from pointcare.intake.received import PatientClaim, Refused

UNKNOWN_SEX = frozenset({"", "U", "O"})


def match_patient(session: Session, claim: PatientClaim) -> Patient:
    """The directory's patient for ``claim``; ``Refused`` with the reason otherwise."""
    named = f"Patient ID {claim.patient_id}" + (f" (issuer {claim.issuer})" if claim.issuer else "")
    query = select(Patient).where(Patient.mrn == claim.patient_id)
    if claim.issuer:
        query = query.where(Patient.issuer == claim.issuer)
    found = list(session.scalars(query.order_by(Patient.issuer)))
    if not found:
        raise Refused(
            status.UNKNOWN_PATIENT,
            f"{named} is not in the patient directory: register the patient, or correct the ID.",
        )
    if len(found) > 1:
        issuers = ", ".join(patient.issuer for patient in found)
        raise Refused(
            status.UNKNOWN_PATIENT,
            f"{named} is held under several issuers ({issuers}): send Issuer of Patient ID.",
        )
    [patient] = found
    if patient.merged_into_id is not None:
        survivor = current(session, patient)
        raise Refused(
            status.PATIENT_MISMATCH,
            f"{named} was merged into {survivor.mrn} (issuer {survivor.issuer}): send the "
            "object under that Patient ID.",
        )
    _require_agreement(patient, claim, named)
    return patient


def _require_agreement(patient: Patient, claim: PatientClaim, named: str) -> None:
    agreeing = 0
    if claim.family_name:
        if fold(claim.family_name) != fold(patient.family_name) or (
            claim.given_name and fold(claim.given_name) != fold(patient.given_name)
        ):
            raise Refused(
                status.PATIENT_MISMATCH,
                f"Patient's Name does not match the directory's patient for {named}.",
            )
        agreeing += 1
    if claim.birth_date is not None and patient.birth_date is not None:
        if claim.birth_date != patient.birth_date:
            raise Refused(
                status.PATIENT_MISMATCH,
                f"Patient's Birth Date does not match the directory's patient for {named}.",
            )
        agreeing += 1
    if claim.sex not in UNKNOWN_SEX and patient.sex not in UNKNOWN_SEX and claim.sex != patient.sex:
        raise Refused(
            status.PATIENT_MISMATCH,
            f"Patient's Sex does not match the directory's patient for {named}.",
        )
    if agreeing == 0:
        raise Refused(
            status.PATIENT_MISMATCH,
            f"Besides {named}, the object needs the patient's name or birth date to confirm who "
            "it is for (two identifiers).",
        )
