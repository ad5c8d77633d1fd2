"""The delivery outbox: which stored objects still have to reach the PACS, and who is sending
them.

A row is written in the transaction that stores the object, so an object the phone was told is
stored always has one. Forwarders claim due rows under a lease (``SELECT ... FOR UPDATE SKIP
LOCKED`` on PostgreSQL; on SQLite the write transaction's ``BEGIN IMMEDIATE`` serialises
claimers), send them, and record each result only while they still hold the lease: a forwarder
that was presumed dead and lost its rows to another cannot overwrite what the other one
recorded.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CursorResult, Subquery, func, or_, select, update
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.protocol import InstanceRef, InstanceResult, Outcome
from pointcare.db.models import Delivery, Instance, Patient, Series, Study

MAX_ERROR_CHARS = 1024


class DeliveryState(StrEnum):
    PENDING = "pending"
    """Waiting for its next attempt (or being sent, while a forwarder holds its lease)."""
    DELIVERED = "delivered"
    """The PACS confirmed it holds the instance."""
    PARKED = "parked"
    """Failed too often; waits for an admin to retry it."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a forwarder holds: what to send, and where its spool copy is."""

    delivery_id: int
    ref: InstanceRef
    storage_path: str


@dataclass(frozen=True, slots=True)
class Recorded:
    delivered: int = 0
    retrying: int = 0
    parked: int = 0
    lost: int = 0
    """Results not recorded because another forwarder had taken the delivery over."""


def enqueue(session: Session, instance_id: int, now: datetime) -> None:
    """Add the delivery of a newly stored object, in the transaction that stores it."""
    session.add(
        Delivery(
            instance_id=instance_id,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def _objects() -> Subquery:
    """What each delivery sends: its UIDs, spool path and patient, one row per delivery."""
    return (
        select(
            Delivery.id.label("delivery_id"),
            Study.study_instance_uid.label("study"),
            Series.series_instance_uid.label("series"),
            Instance.sop_instance_uid.label("sop"),
            Instance.storage_path.label("path"),
            Instance.patient_id.label("patient_id"),
        )
        .join(Instance, Instance.id == Delivery.instance_id)
        .join(Series, Series.id == Instance.series_id)
        .join(Study, Study.id == Instance.study_id)
    ).subquery("delivered_objects")


def claim(
    session: Session, *, owner: str, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for ``owner`` until ``now + lease``.

    Due: pending, next attempt reached, and not held by a live lease. Run it in a write
    transaction (``Database.write()``) that commits before anything is sent.
    """
    due = (
        select(Delivery.id)
        .where(
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has no row locks and omits it
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(lease_owner=owner, lease_expires_at=now + lease)
    )
    objects = _objects()
    rows = session.execute(
        select(Delivery.id, objects.c.study, objects.c.series, objects.c.sop, objects.c.path)
        .join(objects, objects.c.delivery_id == Delivery.id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.next_attempt_at, Delivery.id)
    )
    return [
        Claimed(delivery_id, InstanceRef(study, series, sop), path)
        for delivery_id, study, series, sop, path in rows
    ]


def record(
    session: Session,
    *,
    owner: str,
    results: Mapping[int, InstanceResult],
    now: datetime,
    policy: RetryPolicy,
) -> Recorded:
    """Record the result of each delivery id in ``results``, for those ``owner`` still holds:
    delivered, or retried later with backoff, or parked after ``policy.max_attempts``."""
    held = session.scalars(
        select(Delivery)
        .where(
            Delivery.id.in_(list(results)),
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.lease_owner == owner,
        )
        .with_for_update()
    ).all()
    delivered = retrying = parked = 0
    for delivery in held:
        result = results[delivery.id]
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.lease_owner = None
        delivery.lease_expires_at = None
        delivery.last_error = result.reason[:MAX_ERROR_CHARS] or None
        if result.outcome is Outcome.STORED:
            delivery.state = DeliveryState.DELIVERED.value
            delivery.delivered_at = now
            delivered += 1
        elif policy.gives_up_after(delivery.attempts):
            delivery.state = DeliveryState.PARKED.value
            parked += 1
            audit.record(session, _parked_event(owner, delivery))
        else:
            delivery.next_attempt_at = now + policy.delay(delivery.attempts)
            retrying += 1
    return Recorded(delivered, retrying, parked, lost=len(results) - len(held))


def _parked_event(owner: str, delivery: Delivery) -> audit.AuditEvent:
    """A parked delivery needs an admin: the trail says which object, and why (the PACS's words,
    which name UIDs and statuses, not the patient)."""
    sent = delivery.instance
    return audit.AuditEvent(
        action=audit.AuditAction.DELIVERY_PARKED,
        actor=audit.Actor.system(f"forwarder {owner}"[:64]),
        outcome=audit.Outcome.FAILURE,
        patient=audit.PatientRef.of(sent.patient),
        objects=(sent.sop_instance_uid,),
        reason=delivery.last_error,
        details={"delivery_id": delivery.id, "attempts": delivery.attempts},
    )


def spool_to_remove(session: Session, limit: int = 500) -> list[tuple[int, str]]:
    """(delivery id, Part-10 path) of delivered instances whose spool copy is still kept."""
    objects = _objects()
    rows = session.execute(
        select(Delivery.id, objects.c.path)
        .join(objects, objects.c.delivery_id == Delivery.id)
        .where(
            Delivery.state == DeliveryState.DELIVERED.value,
            Delivery.spool_removed_at.is_(None),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return list(rows)


def mark_spool_removed(session: Session, delivery_ids: Collection[int], now: datetime) -> None:
    session.execute(
        update(Delivery).where(Delivery.id.in_(list(delivery_ids))).values(spool_removed_at=now)
    )


def retry_parked(session: Session, now: datetime, delivery_id: int | None = None) -> int:
    """Put parked deliveries (one, or all when ``delivery_id`` is None) back in the queue, due
    now, with a fresh allowance of attempts. Returns how many were parked."""
    query = (
        update(Delivery)
        .where(Delivery.state == DeliveryState.PARKED.value)
        .values(
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    result = session.execute(query)
    assert isinstance(result, CursorResult)
    return result.rowcount


def delivery_state(session: Session, instance_id: int) -> DeliveryState | None:
    """The delivery state of one photo; None when it has no delivery (the built-in archive)."""
    return delivery_states(session, [instance_id]).get(instance_id)


def delivery_states(session: Session, instance_ids: Collection[int]) -> dict[int, DeliveryState]:
    """Instance id -> delivery state of the photos that have a delivery, in one query (for a
    page that shows many photos)."""
    rows = session.execute(
        select(Delivery.instance_id, Delivery.state).where(
            Delivery.instance_id.in_(list(instance_ids))
        )
    )
    return {instance_id: DeliveryState(state) for instance_id, state in rows}


@dataclass(frozen=True, slots=True)
class OpenDelivery:
    """A delivery that is not done, as the admin page lists it."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    sending: bool
    """A forwarder holds it right now."""
    sop_instance_uid: str
    mrn: str
    issuer: str
    stored_at: datetime


def open_deliveries(session: Session, now: datetime, limit: int = 500) -> list[OpenDelivery]:
    """Parked deliveries first (oldest first), then pending ones by next attempt."""
    parked_first = (Delivery.state == DeliveryState.PARKED.value).desc()
    objects = _objects()
    rows = session.execute(
        select(Delivery, objects.c.sop, Patient.mrn, Patient.issuer)
        .join(objects, objects.c.delivery_id == Delivery.id)
        .join(Patient, Patient.id == objects.c.patient_id)
        .where(Delivery.state != DeliveryState.DELIVERED.value)
        .order_by(parked_first, Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return [
        OpenDelivery(
            delivery_id=delivery.id,
            state=DeliveryState(delivery.state),
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_attempt_at=delivery.last_attempt_at,
            last_error=delivery.last_error or "",
            sending=delivery.lease_expires_at is not None and delivery.lease_expires_at > now,
            sop_instance_uid=sop,
            mrn=mrn,
            issuer=issuer,
            stored_at=delivery.created_at,
        )
        for delivery, sop, mrn, issuer in rows
    ]


def state_counts(session: Session) -> dict[DeliveryState, int]:
    rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    counted = {state: count for state, count in rows}
    return {state: counted.get(state.value, 0) for state in DeliveryState}
