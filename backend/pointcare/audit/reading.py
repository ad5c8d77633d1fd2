"""Reading the trail: verifying the chain, and searching it (admin page, export)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pointcare.audit.chain import HASHED_FIELDS, ChainStatus, ChainWalker
from pointcare.audit.events import AuditAction
from pointcare.db.models import AuditRecord

VERIFY_BATCH = 1000


def verify_chain(session: Session) -> ChainStatus:
    """Walk the whole chain from event 1, in batches, and stop at the first bad event.

    Plain rows, not ORM objects: a long trail streams through without filling the session.
    """
    columns = [getattr(AuditRecord, name) for name in (*HASHED_FIELDS, "hash")]
    walker = ChainWalker()
    after = 0
    while True:
        batch = (
            session.execute(
                select(*columns)
                .where(AuditRecord.seq > after)
                .order_by(AuditRecord.seq)
                .limit(VERIFY_BATCH)
            )
            .mappings()
            .all()
        )
        for row in batch:
            if not walker.check(dict(row)):
                return walker.status()
        if len(batch) < VERIFY_BATCH:
            return walker.status()
        after = batch[-1]["seq"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """Filters for a search; every one optional. Times are aware; ``until`` is exclusive."""

    patient_mrn: str | None = None
    username: str | None = None
    action: AuditAction | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a time zone")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("the end of the time range must be after its start")

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.patient_mrn:
            statement = statement.where(AuditRecord.patient_mrn == self.patient_mrn)
        if self.username:
            statement = statement.where(AuditRecord.username == self.username)
        if self.action is not None:
            statement = statement.where(AuditRecord.action == self.action.value)
        if self.since is not None:
            statement = statement.where(AuditRecord.recorded_at >= self.since)
        if self.until is not None:
            statement = statement.where(AuditRecord.recorded_at < self.until)
        return statement


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditRecord]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(session: Session, query: AuditQuery, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of matching events, newest first."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    total = session.scalar(query.apply(select(func.count()).select_from(AuditRecord))) or 0
    events = session.scalars(
        query.apply(select(AuditRecord))
        .order_by(AuditRecord.seq.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(list(events), total, page, per_page)


def matching(session: Session, query: AuditQuery) -> Iterator[AuditRecord]:
    """Every matching event, oldest first, streamed in batches (exports)."""
    after = 0
    while True:
        batch = session.scalars(
            query.apply(select(AuditRecord))
            .where(AuditRecord.seq > after)
            .order_by(AuditRecord.seq)
            .limit(VERIFY_BATCH)
        ).all()
        yield from batch
        if len(batch) < VERIFY_BATCH:
            return
        after = batch[-1].seq
