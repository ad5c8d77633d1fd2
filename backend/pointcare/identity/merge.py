"""Merging two records of one patient (HL7 ADT A40): the prior MRN's photos move to the survivor.

The prior record is not deleted: it is marked ``merged_into`` the survivor, so its MRN (on an old
wristband, in a bookmark, in a late message) still finds the surviving patient, and search lists
the survivor only. Its studies, photos and consent records are re-pointed at the survivor in the
same transaction, so the review pages, QIDO-RS and the archive's index show them under the
surviving MRN.

The DICOM files already stored are not rewritten: their header keeps the PatientID they were
made with. Archived objects are evidence of what was captured; the index is what follows the
merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pointcare.db.models import ConsentRecord, Finding, Instance, Patient, Study
from pointcare.db.types import utcnow
from pointcare.domain.patients import PatientIdentity, check_identifier
from pointcare.errors import Conflict, InvalidInput
from pointcare.identity.directory import by_issuer_and_mrn, current, name_key, record_patient

MOVED_WITH_THE_PATIENT = (Study, Instance, ConsentRecord, Finding)
"""The tables whose rows belong to a patient and follow a merge."""


class MergeOutcome(StrEnum):
    MERGED = "merged"
    """The prior record's rows now belong to the survivor."""
    ALIAS = "alias"
    """The prior MRN was unknown here: it is kept as another name of the survivor."""
    ALREADY_MERGED = "already merged"
    """The same merge was applied before (a message sent again)."""


@dataclass(frozen=True, slots=True)
class MergeReport:
    survivor: Patient
    outcome: MergeOutcome
    moved: int = 0
    """Photos (instances) that moved to the survivor."""


def merge_patients(
    session: Session, survivor: PatientIdentity, *, prior_mrn: str, prior_issuer: str
) -> MergeReport:
    """Record ``survivor`` (its stored visit kept) and merge the prior record into it.

    Flushes, never commits: call inside ``Database.write()``. Raises ``Conflict`` when either
    identifier was already merged into a third patient, ``InvalidInput`` for the same identifier
    twice.
    """
    try:
        prior_key = (check_identifier(prior_issuer, "issuer"), check_identifier(prior_mrn, "MRN"))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if prior_key == (survivor.issuer.strip(), survivor.mrn.strip()):
        raise InvalidInput(f"MRN {prior_mrn} cannot be merged into itself")
    prior = by_issuer_and_mrn(session, *prior_key)
    if prior is not None and prior.merged_into_id is not None:
        merged_into = current(session, prior)
        if (merged_into.issuer, merged_into.mrn) == (survivor.issuer, survivor.mrn):
            return MergeReport(merged_into, MergeOutcome.ALREADY_MERGED)
        raise Conflict(
            f"MRN {prior_mrn} ({prior_issuer}) was already merged into MRN {merged_into.mrn} "
            f"({merged_into.issuer})"
        )
    target, _change = record_patient(session, survivor, keep_visit_number=True)
    if prior is None:
        session.add(_alias(target, *prior_key))
        session.flush()
        return MergeReport(target, MergeOutcome.ALIAS)
    moved = session.scalar(select(func.count()).where(Instance.patient_id == prior.id)) or 0
    _keep_finding_labels_apart(session, prior, target)
    for table in MOVED_WITH_THE_PATIENT:
        # ORM-enabled bulk updates: objects this session holds are updated too.
        session.execute(
            update(table).where(table.patient_id == prior.id).values(patient_id=target.id)
        )
    # Records merged into the prior one earlier now point at the survivor: one hop, always.
    session.execute(
        update(Patient).where(Patient.merged_into_id == prior.id).values(merged_into_id=target.id)
    )
    prior.merged_into_id = target.id
    prior.merged_at = utcnow()
    session.flush()
    return MergeReport(target, MergeOutcome.MERGED, moved)


def _keep_finding_labels_apart(session: Session, prior: Patient, target: Patient) -> None:
    """A label is unique per patient: a prior finding whose label the survivor already uses
    ("Wound 1" in both records) takes the prior MRN after it."""
    taken = set(session.scalars(select(Finding.label).where(Finding.patient_id == target.id)))
    for finding in session.scalars(select(Finding).where(Finding.patient_id == prior.id)):
        if finding.label in taken:
            finding.label = f"{finding.label} (MRN {prior.mrn})"[:64]
    session.flush()


def _alias(survivor: Patient, issuer: str, mrn: str) -> Patient:
    """A record for a prior MRN we never saw, already merged: the old MRN finds the survivor."""
    return Patient(
        mrn=mrn,
        issuer=issuer,
        family_name=survivor.family_name,
        given_name=survivor.given_name,
        name_key=name_key(survivor.family_name, survivor.given_name),
        birth_date=survivor.birth_date,
        sex=survivor.sex,
        visit_number=None,
        merged_into_id=survivor.id,
        merged_at=utcnow(),
    )


__all__ = ["MOVED_WITH_THE_PATIENT", "MergeOutcome", "MergeReport", "merge_patients"]
