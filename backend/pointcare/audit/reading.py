"""Reading the trail: verifying the chain (against a checkpoint), and searching it (admin page,
export)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pointcare.audit.chain import HASHED_FIELDS, ChainProblem, ChainStatus, ChainWalker
from pointcare.audit.checkpoints import Checkpoint
from pointcare.audit.events import AuditAction
from pointcare.audit.trail import chain_key
from pointcare.db.models import AuditChain, AuditRecord

VERIFY_BATCH = 1000


LIST_COVERS = timedelta(minutes=10)
"""How long a list view covers the thumbnails its page fetches one by one."""


def shown_in_a_list(
    session: Session,
    user_id: int,
    patient_id: int,
    uids: Iterable[str],
    *,
    within: timedelta = LIST_COVERS,
) -> bool:
    """Whether a list (one ``image.list_viewed`` event, e.g. the review page) showed this user
    any of ``uids`` of this patient lately: its thumbnails, fetched one by one, are part of that
    one audited view; a thumbnail no list showed is audited on its own.

    A page's thumbnails come by the dozen, each asking this: the list events read for one are
    remembered (``_RecentLists``), so the others are answered without reading the trail again.
    The trail is append-only, so a list event once read stays true until it is too old."""
    wanted = set(uids)
    since = datetime.now(UTC) - within
    lists = _recent_lists(session)
    if lists.showed(user_id, patient_id, wanted, since):
        return True
    listed = session.execute(
        select(AuditRecord.recorded_at, AuditRecord.objects)
        .where(
            AuditRecord.user_id == user_id,
            AuditRecord.patient_id == patient_id,
            AuditRecord.action == AuditAction.IMAGE_LIST_VIEWED.value,
            AuditRecord.recorded_at >= since,
        )
        .order_by(AuditRecord.seq.desc())
        .limit(20)
    ).all()
    lists.remember(user_id, patient_id, [(at, frozenset(objects or ())) for at, objects in listed])
    return any(wanted.intersection(objects or ()) for _at, objects in listed)


class _RecentLists:
    """The list events last read from the trail, per user and patient (a few hundred pairs at
    most are kept: the oldest pair read is forgotten first)."""

    PAIRS = 512

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: OrderedDict[tuple[int, int], list[tuple[datetime, frozenset[str]]]] = (
            OrderedDict()
        )

    def showed(self, user_id: int, patient_id: int, wanted: set[str], since: datetime) -> bool:
        with self._lock:
            lists = self._lists.get((user_id, patient_id), [])
        return any(at >= since and not wanted.isdisjoint(uids) for at, uids in lists)

    def remember(
        self, user_id: int, patient_id: int, lists: list[tuple[datetime, frozenset[str]]]
    ) -> None:
        with self._lock:
            self._lists[(user_id, patient_id)] = lists
            self._lists.move_to_end((user_id, patient_id))
            while len(self._lists) > self.PAIRS:
                self._lists.popitem(last=False)


_RECENT_LISTS: WeakKeyDictionary[Any, _RecentLists] = WeakKeyDictionary()
"""Per database (its engine): what ``shown_in_a_list`` read of each one's trail."""


def _recent_lists(session: Session) -> _RecentLists:
    """The session's database's remembered lists, made the first time only (a thumbnail asks
    on every fetch)."""
    engine = session.get_bind()
    lists = _RECENT_LISTS.get(engine)
    if lists is None:
        lists = _RECENT_LISTS.setdefault(engine, _RecentLists())
    return lists


def keyed_from(session: Session) -> int:
    """The first event of the keyed chain (earlier ones keep their plain hashes): fixed by the
    migration that keyed the chain, 1 for a database that always had a keyed one."""
    return session.scalar(select(AuditChain.keyed_from_seq)) or 1


def verify_chain(
    session: Session, checkpoint: Checkpoint | None = None, *, since_checkpoint: bool = False
) -> ChainStatus:
    """Walk the chain in batches and stop at the first bad event; with a ``checkpoint``, also
    check the trail against it: the event it names must still hash as it recorded, and the
    trail must reach it (cut off otherwise). ``since_checkpoint`` walks only the events after
    it (the checkpointer's incremental check).

    Plain rows, not ORM objects: a long trail streams through without filling the session.
    """
    first_keyed = keyed_from(session)
    if checkpoint is not None and checkpoint.keyed_from != first_keyed:
        return ChainStatus(
            0,
            0,
            ChainProblem(
                first_keyed,
                f"the database says the chain is keyed from event {first_keyed}, "
                f"{checkpoint.describe()} says from event {checkpoint.keyed_from} (rewritten)",
            ),
        )
    walker = ChainWalker(chain_key(session), first_keyed)
    if since_checkpoint and checkpoint is not None:
        anchor = session.scalar(select(AuditRecord.hash).where(AuditRecord.seq == checkpoint.seq))
        if anchor is None:
            return ChainStatus(0, 0, _cut_off(checkpoint, checkpoint.seq - 1))
        if anchor != checkpoint.hash:
            return ChainStatus(0, 0, _rewritten(checkpoint))
        walker = ChainWalker(
            walker.key, first_keyed, after_seq=checkpoint.seq, after_hash=checkpoint.hash
        )
    _walk(session, walker, checkpoint)
    status = walker.status()
    if status.ok and checkpoint is not None and status.last_seq < checkpoint.seq:
        return ChainStatus(status.verified, status.last_seq, _cut_off(checkpoint, status.last_seq))
    return status


def _walk(session: Session, walker: ChainWalker, checkpoint: Checkpoint | None) -> None:
    columns = [getattr(AuditRecord, name) for name in (*HASHED_FIELDS, "hash")]
    while True:
        batch = (
            session.execute(
                select(*columns)
                .where(AuditRecord.seq > walker.last_seq)
                .order_by(AuditRecord.seq)
                .limit(VERIFY_BATCH)
            )
            .mappings()
            .all()
        )
        for row in batch:
            if not walker.check(dict(row)):
                return
            if (
                checkpoint is not None
                and walker.last_seq == checkpoint.seq
                and walker.last_hash != checkpoint.hash
            ):
                walker.problem = _rewritten(checkpoint)
                return
        if len(batch) < VERIFY_BATCH:
            return


def _rewritten(checkpoint: Checkpoint) -> ChainProblem:
    return ChainProblem(
        checkpoint.seq,
        f"its hash differs from the one {checkpoint.describe()} recorded (the trail was rewritten)",
    )


def _cut_off(checkpoint: Checkpoint, last_seq: int) -> ChainProblem:
    return ChainProblem(
        last_seq + 1,
        f"the trail ends at event {last_seq}, but {checkpoint.describe()} recorded "
        f"{checkpoint.seq} events (the end was cut off)",
    )


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
