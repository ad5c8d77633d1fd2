"""What an operator sees of the outbox: each delivery's attempts, and the figures Prometheus
scrapes (read from the database at each scrape, so every node reports the same whichever
process sent the photos).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pointcare import faults
from pointcare.archive.outbox import DeliveryState
from pointcare.db.engine import Database
from pointcare.db.models import Delivery, DeliveryAttempt
from pointcare.db.types import utcnow


@dataclass(frozen=True, slots=True)
class AttemptView:
    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    """``delivered``, ``refused``, ``unreachable``, ``interrupted``, or ``sending``."""
    reason: str
    forwarder: str


def attempt_history(
    session: Session, delivery_ids: Collection[int], *, limit: int = 10
) -> dict[int, list[AttemptView]]:
    """The last ``limit`` attempts of each delivery, newest first."""
    rows = session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(list(delivery_ids)))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number.desc())
    )
    history: dict[int, list[AttemptView]] = {}
    for attempt in rows:
        kept = history.setdefault(attempt.delivery_id, [])
        if len(kept) < limit:
            kept.append(
                AttemptView(
                    number=attempt.number,
                    started_at=attempt.started_at,
                    finished_at=attempt.finished_at,
                    outcome=attempt.outcome or "sending",
                    reason=attempt.reason or "",
                    forwarder=attempt.forwarder,
                )
            )
    return history


class OutboxCollector(Collector):
    """The outbox as the database has it, for ``/metrics``."""

    def __init__(self, db: Database, *, max_attempts: int) -> None:
        self.db = db
        self.max_attempts = max_attempts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "pointcare_database_up", "Whether this node reached its database for this scrape"
        )
        try:
            with self.db.session() as session:
                figures = list(self._figures(session))
        except Exception as exc:
            if faults.as_fault(exc) is None:
                raise
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _figures(self, session: Session) -> Iterator[Metric]:
        now = utcnow()
        by_state = GaugeMetricFamily(
            "pointcare_outbox_deliveries", "Deliveries to the PACS by state", labels=["state"]
        )
        counted = dict(
            session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        )
        for state in DeliveryState:
            by_state.add_metric([state.value], counted.get(state.value, 0))
        yield by_state

        pending = Delivery.state == DeliveryState.PENDING.value
        oldest = session.scalar(select(func.min(Delivery.created_at)).where(pending))
        yield GaugeMetricFamily(
            "pointcare_outbox_oldest_pending_seconds",
            "Age of the oldest photo not yet delivered (0: none waiting)",
            value=(now - oldest).total_seconds() if oldest is not None else 0.0,
        )
        overdue = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(pending, Delivery.attempts >= self.max_attempts)
        )
        yield GaugeMetricFamily(
            "pointcare_outbox_overdue",
            "Pending deliveries tried POINTCARE_DELIVERY_MAX_ATTEMPTS times or more (the PACS "
            "unreachable for long: alert)",
            value=overdue or 0,
        )
        attempts = CounterMetricFamily(
            "pointcare_delivery_attempts",
            "Finished delivery attempts by outcome and cause",
            labels=["outcome", "cause"],
        )
        rows = session.execute(
            select(DeliveryAttempt.outcome, DeliveryAttempt.cause, func.count())
            .where(DeliveryAttempt.outcome.is_not(None))
            .group_by(DeliveryAttempt.outcome, DeliveryAttempt.cause)
        )
        for outcome, cause, count in rows:
            attempts.add_metric([outcome or "", cause or ""], count)
        yield attempts
