"""The delivery outbox: which stored objects still have to reach the PACS, and who is sending
them.

A row is written in the transaction that stores the object, so an object the phone was told is
stored always has one. Forwarders claim due rows under a lease (``SELECT ... FOR UPDATE SKIP
LOCKED`` on PostgreSQL; on SQLite the write transaction's ``BEGIN IMMEDIATE`` serialises
claimers), renew it while they send, and record each result only while they still hold the
lease: a forwarder that was presumed dead and lost its rows to another cannot overwrite what the
other one recorded. Every attempt is counted when claimed and kept in ``delivery_attempts``
(when, who, how it ended, why). Only refusals and crashes park a delivery; an unreachable PACS
is retried for as long as it takes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CursorResult, Subquery, func, or_, select, update
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.protocol import Cause, InstanceRef, InstanceResult, Outcome
from pointcare.db.models import Delivery, DeliveryAttempt, Instance, Patient, Series, Study

log = logging.getLogger(__name__)

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


class AttemptOutcome(StrEnum):
    """How one attempt ended (``DeliveryAttempt.outcome``)."""

    DELIVERED = "delivered"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    """No answer about it: the PACS down, a timeout, a 5xx."""
    INTERRUPTED = "interrupted"
    """The forwarder stopped before it recorded a result."""

    @classmethod
    def of(cls, outcome: Outcome) -> AttemptOutcome:
        return {
            Outcome.STORED: cls.DELIVERED,
            Outcome.FAILED: cls.REFUSED,
            Outcome.UNCONFIRMED: cls.UNREACHABLE,
        }[outcome]


@dataclass(frozen=True, slots=True)
class Recorded:
    delivered: int = 0
    retrying: int = 0
    parked: int = 0
    lost: int = 0
    """Results not recorded because another forwarder had taken the delivery over."""
    overdue: int = 0
    """Unreachable for ``max_attempts`` attempts or more: still retried, and worth an alert."""


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
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    policy: RetryPolicy,
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for ``owner`` until ``now + lease``.

    Due: pending, next attempt reached, and not held by a live lease. Each taken delivery's
    attempt is counted now and opened in its history, so that a send cut short by a crash
    still counts; a delivery whose lease ran out without a result gets that attempt closed as
    interrupted, and one charged ``policy.max_attempts`` times that way is parked instead of
    sent again (a photo that kills the forwarder must not do so for ever). Run it in a write
    transaction (``Database.write()``) that commits before anything is sent.
    """
    due = (
        select(Delivery)
        .where(
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at <= now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has no row locks and omits it
    )
    taken: list[int] = []
    for delivery in session.scalars(due).all():
        if delivery.lease_owner is not None:
            _close_interrupted(session, delivery, now)
        if policy.gives_up_after(delivery.charged_attempts):
            _park(session, delivery, owner)
            continue
        delivery.attempts += 1
        delivery.charged_attempts += 1
        delivery.last_attempt_at = now
        delivery.lease_owner = owner
        delivery.lease_expires_at = now + lease
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                number=delivery.attempts,
                forwarder=owner,
                started_at=now,
            )
        )
        taken.append(delivery.id)
    if not taken:
        return []
    objects = _objects()
    rows = session.execute(
        select(Delivery.id, objects.c.study, objects.c.series, objects.c.sop, objects.c.path)
        .join(objects, objects.c.delivery_id == Delivery.id)
        .where(Delivery.id.in_(taken))
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
    """Record the result of each delivery id in ``results``, for those ``owner`` still holds.

    Delivered; or, when the PACS could not be reached or did not answer, retried with backoff
    (capped) for as long as it takes, the attempt given back (an outage parks nothing; past
    ``policy.max_attempts`` attempts it is counted as overdue, for an alert); or, when the PACS
    refused it, retried with backoff and parked once ``policy.max_attempts`` attempts counted.
    """
    held = session.scalars(
        select(Delivery)
        .where(
            Delivery.id.in_(list(results)),
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.lease_owner == owner,
        )
        .with_for_update()
    ).all()
    attempts = {
        attempt.delivery_id: attempt
        for attempt in session.scalars(
            select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id.in_([delivery.id for delivery in held]),
                DeliveryAttempt.forwarder == owner,
                DeliveryAttempt.finished_at.is_(None),
            )
        )
    }
    delivered = retrying = parked = overdue = 0
    for delivery in held:
        result = results[delivery.id]
        reason = result.reason[:MAX_ERROR_CHARS] or None
        attempt = attempts.get(delivery.id)
        if attempt is not None:
            attempt.finished_at = now
            attempt.outcome = AttemptOutcome.of(result.outcome).value
            attempt.cause = result.why.value
            attempt.reason = reason
        delivery.lease_owner = None
        delivery.lease_expires_at = None
        delivery.last_error = reason
        if result.outcome is Outcome.STORED:
            delivery.state = DeliveryState.DELIVERED.value
            delivery.delivered_at = now
            delivered += 1
        elif result.outcome is Outcome.UNCONFIRMED:
            delivery.charged_attempts = max(delivery.charged_attempts - 1, 0)
            delivery.next_attempt_at = now + policy.delay(delivery.attempts)
            retrying += 1
            overdue += policy.gives_up_after(delivery.attempts)
        elif policy.gives_up_after(delivery.charged_attempts):
            _park(session, delivery, owner)
            parked += 1
        else:
            delivery.next_attempt_at = now + policy.delay(delivery.charged_attempts)
            retrying += 1
    return Recorded(delivered, retrying, parked, lost=len(results) - len(held), overdue=overdue)


def _close_interrupted(session: Session, delivery: Delivery, now: datetime) -> None:
    """The attempt its last holder never recorded: the forwarder died (or lost its lease)."""
    reason = (
        f"the forwarder {delivery.lease_owner} stopped before it recorded a result "
        "(killed, crashed, or cut off from the database)"
    )[:MAX_ERROR_CHARS]
    session.execute(
        update(DeliveryAttempt)
        .where(
            DeliveryAttempt.delivery_id == delivery.id,
            DeliveryAttempt.finished_at.is_(None),
        )
        .values(
            finished_at=now,
            outcome=AttemptOutcome.INTERRUPTED.value,
            cause=Cause.INTERRUPTED.value,
            reason=reason,
        )
    )
    delivery.last_error = reason
    delivery.lease_owner = None
    delivery.lease_expires_at = None


def _park(session: Session, delivery: Delivery, owner: str) -> None:
    delivery.state = DeliveryState.PARKED.value
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    log.error(
        "delivery parked delivery_id=%s attempts=%d reason=%s",
        delivery.id,
        delivery.attempts,
        delivery.last_error,
    )
    audit.record(session, _parked_event(owner, delivery))


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
            charged_attempts=0,
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
