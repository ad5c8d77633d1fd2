"""What becomes of each object a STOW-RS request brings: the checks against the directory and
the archive, then the one stored-object pipeline.

An object is accepted when it reads as one of ours (``received``), names a patient of the
directory (``patients``), belongs to the study the request targets (if it names one), and does
not clash with the archive: a SOP Instance UID already stored is accepted again only with the
same bytes (a retry), never one that was rejected (IOCM: a rejected instance is not taken back);
a study or series already held for another patient or study is refused rather than mixed.
Each accepted object is stored on its own (``intake.storing``, then ``capture.pipeline``): one
refused at that step leaves the others stored. Log lines carry UIDs and patient ids, never names.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.capture.pipeline import ObjectStore
from pointcare.db.models import Instance, Series, Study
from pointcare.dicom import store_status as status
from pointcare.domain.consent import ConsentAnswers
from pointcare.errors import ConsentRequired
from pointcare.intake.patients import match_patient
from pointcare.intake.received import Identified, ReceivedObject, Refused
from pointcare.intake.storing import new_object

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Accepted:
    """An object to store for ``patient_id`` (or stored before, byte for byte)."""

    received: ReceivedObject
    patient_id: int
    stored_before: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    """An object refused, with what it could be identified by."""

    identified: Identified
    code: int
    reason: str


Verdict = Accepted | Refusal


def refusal(identified: Identified, refused: Refused) -> Refusal:
    log.info(
        "intake refused sop=%s code=%04X",
        identified.sop_instance_uid or "(unreadable)",
        refused.code,
    )
    return Refusal(identified, refused.code, refused.reason)


def examine(session: Session, received: ReceivedObject, *, target_study: str | None) -> Verdict:
    """The verdict on one object that read well, before anything is stored."""
    identified = Identified(received.sop_class_uid, received.sop_instance_uid)
    try:
        if target_study is not None and received.study_instance_uid != target_study:
            raise Refused(
                status.DOES_NOT_MATCH_SOP_CLASS,
                f"Study Instance UID {received.study_instance_uid} is not the study this request "
                f"stores into ({target_study}).",
            )
        patient = match_patient(session, received.patient)
        stored_before = _against_the_archive(session, received, patient.id)
    except Refused as refused:
        return refusal(identified, refused)
    log.info(
        "intake accepted sop=%s patient_id=%s stored_before=%s",
        received.sop_instance_uid,
        patient.id,
        stored_before,
    )
    return Accepted(received, patient.id, stored_before)


def _against_the_archive(session: Session, received: ReceivedObject, patient_id: int) -> bool:
    """Whether the very same object is stored already; ``Refused`` for any clash."""
    instance = session.scalar(
        select(Instance).where(Instance.sop_instance_uid == received.sop_instance_uid)
    )
    if instance is not None:
        if instance.rejected_at is not None:
            raise Refused(
                status.CONFLICTING_INSTANCE,
                f"SOP Instance {received.sop_instance_uid} was rejected here (IOCM) and is not "
                "taken back: send a corrected copy under new UIDs.",
            )
        if instance.sha256 != hashlib.sha256(received.part10).hexdigest():
            raise Refused(
                status.CONFLICTING_INSTANCE,
                f"SOP Instance {received.sop_instance_uid} is already stored with other content.",
            )
        return True
    study = session.scalar(
        select(Study).where(Study.study_instance_uid == received.study_instance_uid)
    )
    if study is not None and study.patient_id != patient_id:
        raise Refused(
            status.PATIENT_MISMATCH,
            f"Study {received.study_instance_uid} is held here for another patient.",
        )
    series = session.scalar(
        select(Series).where(Series.series_instance_uid == received.series_instance_uid)
    )
    if series is not None and (study is None or series.study_id != study.id):
        raise Refused(
            status.DOES_NOT_MATCH_SOP_CLASS,
            f"Series {received.series_instance_uid} is held here in another study.",
        )
    return False


def receive(
    objects: ObjectStore,
    actor: audit.Actor,
    operator_id: int,
    items: Sequence[ReceivedObject | Refusal],
    *,
    target_study: str | None,
    consent: ConsentAnswers | None,
) -> tuple[list[ReceivedObject], list[Refusal]]:
    """Store what may be stored of ``items``: (what the archive now holds, what was refused)."""
    stored: list[ReceivedObject] = []
    refused: list[Refusal] = []
    for item in items:
        if isinstance(item, Refusal):
            refused.append(item)
            continue
        identified = Identified(item.sop_class_uid, item.sop_instance_uid)
        with objects.db.session() as session:
            verdict = examine(session, item, target_study=target_study)
        if isinstance(verdict, Refusal):
            refused.append(verdict)
            continue
        if not verdict.stored_before:
            try:
                new = new_object(
                    item, patient_id=verdict.patient_id, operator_id=operator_id, consent=consent
                )
                objects.store(new, actor)
            except Refused as exc:
                refused.append(refusal(identified, exc))
                continue
            except ConsentRequired as exc:  # the clinical record declined
                refused.append(refusal(identified, Refused(status.NO_CONSENT, exc.detail)))
                continue
            except IntegrityError:
                # The same object from a concurrent request: stored, or refused, by that one.
                lost = _after_a_race(objects, item, target_study)
                if lost is not None:
                    refused.append(lost)
                    continue
        stored.append(item)
    return stored, refused


def _after_a_race(
    objects: ObjectStore, item: ReceivedObject, target_study: str | None
) -> Refusal | None:
    """None when a concurrent request stored the very same object; its refusal otherwise."""
    with objects.db.session() as session:
        again = examine(session, item, target_study=target_study)
    if isinstance(again, Refusal):
        return again
    if again.stored_before:
        return None
    failed = Refused(status.PROCESSING_FAILURE, "Storing it failed: send it again.")
    return refusal(Identified(item.sop_class_uid, item.sop_instance_uid), failed)
