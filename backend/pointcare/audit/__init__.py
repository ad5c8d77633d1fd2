"""The audit trail: who did what to which patient's data, when, from where, with what outcome.

Contract for callers (every module that records an event uses only these names):

    from pointcare import audit

    event = audit.AuditEvent(
        action=audit.AuditAction.BREAK_GLASS,
        actor=audit.actor_of(request, principal),  # user, role, client address, user agent
        patient=audit.PatientRef(mrn=patient.mrn, issuer=patient.issuer, patient_id=patient.id),
        objects=(sop_instance_uid,),                # UIDs touched, may be empty
        outcome=audit.Outcome.SUCCESS,              # SUCCESS / FAILURE / REFUSED
        reason="wound review with the patient",     # short words: why refused / why glass broken
        details={"grant_minutes": 30},              # str/int/bool/None only
    )
    with runtime.db.write() as session:
        ...the action's own writes...
        audit.record(session, event)   # last: same transaction, commits or rolls back with it

- ``record(session, event)`` appends inside the caller's transaction (use ``Database.write()``,
  whose ``BEGIN IMMEDIATE`` serialises SQLite writers; PostgreSQL takes an advisory lock until
  commit). Call it as the last statement: the lock is held until the transaction ends.
- ``record_now(db, event)`` appends in a transaction of its own, for events with no write of
  their own (views, searches, refused sign-ins or launches).
- ``actor_of(request, principal=None, username=None)`` builds the actor from a Litestar request;
  without a principal the actor is anonymous (``username`` = the name a failed sign-in tried).
  ``Actor.system("forwarder")`` and ``Actor.operator(os_user)`` cover workers and the CLI.
- ``PatientRef.of(patient)`` takes a ``db.models.Patient``.
- Never put patient names, free text from the record or pixels in an event: MRNs, UIDs and ids
  only. ``AuditEvent`` refuses non-scalar details and truncates long reasons.
- Actions are ``AuditAction`` values; add a new member there (never rename a stored value).

Shared builders: ``patient_search``, ``patient_opened`` (+ one list view), ``image_viewed``,
``exported``.
Reading: ``verify_chain`` (the hash chain), ``search`` (filters, newest first) and
``pointcare.audit.fhir`` (FHIR R4 AuditEvent for export).
"""

from __future__ import annotations

from pointcare.audit.chain import ChainStatus
from pointcare.audit.events import (
    Actor,
    AuditAction,
    AuditEvent,
    Outcome,
    PatientRef,
    SystemRole,
)
from pointcare.audit.reading import AuditQuery, search, shown_in_a_list, verify_chain
from pointcare.audit.recorders import (
    dicomweb_search,
    exported,
    image_viewed,
    patient_of_study,
    patient_opened,
    patient_search,
)
from pointcare.audit.requests import actor_of
from pointcare.audit.trail import record, record_now

__all__ = [
    "Actor",
    "AuditAction",
    "AuditEvent",
    "AuditQuery",
    "ChainStatus",
    "Outcome",
    "PatientRef",
    "SystemRole",
    "actor_of",
    "dicomweb_search",
    "exported",
    "image_viewed",
    "patient_of_study",
    "patient_opened",
    "patient_search",
    "record",
    "record_now",
    "search",
    "shown_in_a_list",
    "verify_chain",
]
