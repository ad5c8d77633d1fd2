"""Appending to the trail, inside the caller's transaction.

Appends are serialised so that the chain stays a line: on PostgreSQL a transaction-scoped
advisory lock (held until the caller commits or rolls back, so an event that rolls back leaves
no trace and no gap); on SQLite the caller's ``Database.write()`` transaction already holds the
database's one write lock (``BEGIN IMMEDIATE``). The cost per event: the lock (PostgreSQL only),
one read of the chain head, one INSERT. Hashes are keyed (``pointcare.audit.chain``) with the
key the database was opened with.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from pointcare import faults
from pointcare.audit.chain import GENESIS_HASH, event_mac
from pointcare.audit.events import AuditEvent
from pointcare.db.engine import AUDIT_KEY, Database
from pointcare.db.models import AuditRecord, Base
from pointcare.db.types import utcnow
from pointcare.errors import ServiceUnavailable
from pointcare.metrics import AUDIT_WRITE_FAILURES

log = logging.getLogger(__name__)

AUDIT_CHAIN_LOCK = 0x706F696E74617564
"""PostgreSQL advisory lock key held while appending ("pointaud" in ASCII)."""

# Built once: every audited request runs both, and building a statement (its cache key above
# all) costs more than running it.
_CHAIN_HEAD = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
_APPEND = insert(Base.metadata.tables[AuditRecord.__tablename__])


def chain_key(session: Session) -> bytes:
    """The audit key the session's database was opened with."""
    key = session.info.get(AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError(
            "this database was opened without the audit key (Database(audit_key=...)): "
            "the trail can be neither written nor verified"
        )
    return key


class Link(NamedTuple):
    """Where an event was appended to the chain."""

    seq: int
    prev_hash: str
    hash: str


def record(session: Session, event: AuditEvent) -> Link:
    """Append ``event`` in the caller's transaction; it commits or rolls back with the action.

    Call it last in the transaction: on PostgreSQL it holds the chain's lock until commit. The
    chain is read and the row written by two prepared Core statements on the transaction's
    connection, not through the ORM (whose bookkeeping costs more than the statements):
    nothing reads the row back in the transaction.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})
    head = connection.execute(_CHAIN_HEAD).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head is not None else (1, GENESIS_HASH)
    row = _row_values(event, seq, prev_hash)
    row["hash"] = event_mac(chain_key(session), row)
    connection.execute(_APPEND, row)
    log.info(
        "audit seq=%d action=%s outcome=%s user_id=%s patient_id=%s objects=%d",
        seq,
        event.action.value,
        event.outcome.value,
        event.actor.user_id,
        event.patient.patient_id if event.patient else None,
        len(event.objects),
    )
    return Link(seq, prev_hash, row["hash"])


def record_now(db: Database, *events: AuditEvent) -> None:
    """Append ``events`` in a transaction of their own: for events with no write of their own
    (a view, a search, a refused sign-in).

    Called before the data it records is sent, so that nothing is read unaudited: when the
    trail cannot be written (the database down, its disk full), ``AuditUnavailable`` (503)
    refuses the read itself.
    """
    try:
        with db.write() as session:
            for event in events:
                record(session, event)
    except Exception as exc:
        AUDIT_WRITE_FAILURES.inc()
        if faults.as_fault(exc) is None:
            raise
        log.warning(
            "audit event not written, access refused: %s (%s)",
            ",".join(event.action.value for event in events),
            faults.describe(exc),
        )
        raise AuditUnavailable(
            "This access cannot be recorded in the audit trail right now, so it is refused. "
            "Try again in a minute; if it keeps failing, tell the administrator."
        ) from None


class AuditUnavailable(ServiceUnavailable):
    """The trail cannot be written: the access it would record is refused (no unaudited
    reads of patient data)."""

    retry_after_seconds = 30


def _row_values(event: AuditEvent, seq: int, prev_hash: str) -> dict[str, Any]:
    actor, patient = event.actor, event.patient
    return {
        "seq": seq,
        "recorded_at": utcnow(),
        "user_id": actor.user_id,
        "username": actor.username,
        "role": actor.role,
        "client_address": actor.client_address,
        "user_agent": actor.user_agent,
        "action": event.action.value,
        "patient_id": patient.patient_id if patient else None,
        "patient_mrn": patient.mrn if patient else None,
        "patient_issuer": patient.issuer if patient else None,
        "objects": list(event.objects),
        "outcome": event.outcome.value,
        "reason": event.reason,
        "details": dict(event.details),
        "prev_hash": prev_hash,
    }
