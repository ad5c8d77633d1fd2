"""The forwarder: takes photos from the outbox to the PACS, then empties the spool.

One cycle: claim a batch of due deliveries (a short write transaction that counts each attempt),
read their spool copies, send them to the archive (one STOW-RS request per batch, split when it
would exceed ``MAX_REQUEST_BYTES``) while a thread renews the lease, record each instance's
result, and only then delete the Part-10 spool copies of what the PACS confirmed (thumbnails
stay for the review pages).

Two answers are looked at twice. A request refused as a whole (a 4xx that names no instance:
one unreadable object makes Orthanc refuse its batch) is sent again one instance at a time, so
that one bad photo does not hold back the others. A refusal as duplicate (Failure Reason 0111,
or a 409) is checked by asking the PACS for the instance by its UIDs: if it holds it, the photo
is delivered (an earlier attempt got through without us hearing of it).

Up to ``concurrency`` such cycles run at once, each in a thread of its own (a lane) with its own
batch: while one lane waits for the PACS to answer, another reads its spool copies or records
its results. The lanes share one owner name and take disjoint batches (a claim is a write
transaction, and a claimed delivery is under lease), so nothing is sent twice by them. A lane
that finds nothing due sleeps ``poll_seconds``; a busy one goes straight on to its next batch.

A forwarder that is killed half-way leaves its claimed rows pending under a lease; when the
lease expires, or at once when it restarts on the same host, they are sent again. The SOP
Instance UIDs were fixed at ingest, so the PACS ends up with each photo once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from pointcare import faults
from pointcare.archive import leases, outbox
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.files import FileStore
from pointcare.archive.protocol import (
    REQUEST_LEVEL,
    TO_VERIFY,
    Archive,
    Cause,
    InstanceResult,
    Outcome,
    OutgoingInstance,
    StoreReport,
)
from pointcare.db.engine import Database
from pointcare.db.types import utcnow
from pointcare.serving.log_throttle import LogThrottle, held_back

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""A batch is split into STOW-RS requests of at most this size (or one object, if larger)."""
FAULT_LOG_SECONDS = 60.0
"""The database out of reach is logged once a minute, not once a poll."""
RENEWALS_PER_LEASE = 3
"""The lease is renewed this many times per lease period while a batch is being sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwarderSettings:
    batch_size: int
    lease: timedelta
    poll_seconds: float
    retry: RetryPolicy
    concurrency: int = 1
    """Batches sent at once (lanes), each in a request of its own."""


@dataclass(frozen=True, slots=True)
class _Outgoing:
    claimed: outbox.Claimed
    part10: bytes


class Forwarder:
    def __init__(
        self,
        db: Database,
        files: FileStore,
        archive: Archive,
        settings: ForwarderSettings,
        *,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.archive = archive
        self.settings = settings
        self.owner = owner or leases.forwarder_id()
        self._quiet = LogThrottle(FAULT_LOG_SECONDS)
        self._removing = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set, in ``concurrency`` lanes; a lane sleeps
        ``poll_seconds`` whenever it finds nothing due.

        Any error (database or archive down, a bug) is logged and the loop goes on: a
        forwarder that stopped silently would let photos pile up unseen. The database out of
        reach is one warning line a minute, not a traceback every poll.
        """
        lanes = max(1, self.settings.concurrency)
        log.info("forwarder started owner=%s lanes=%d", self.owner, lanes)
        try:
            self.end_dead_leases()
        except Exception as exc:  # the leases then run out by themselves
            self._log_failure(exc)
        others = [
            threading.Thread(
                target=self._lane, args=(stop,), name=f"pointcare-lane-{number}", daemon=True
            )
            for number in range(1, lanes)
        ]
        for thread in others:
            thread.start()
        self._lane(stop)
        for thread in others:
            thread.join()
        log.info("forwarder stopped owner=%s", self.owner)

    def _lane(self, stop: threading.Event) -> None:
        """Cycles until ``stop`` is set, without a pause while there is work."""
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception as exc:
                self._log_failure(exc)
                busy = False
            if not busy:
                stop.wait(self.settings.poll_seconds)

    def _log_failure(self, exc: Exception) -> None:
        if faults.as_fault(exc) is None:
            log.exception("forwarder cycle failed owner=%s", self.owner)
            return
        held = self._quiet("fault")
        if held is not None:
            log.warning(
                "forwarder waiting owner=%s: %s%s",
                self.owner,
                faults.describe(exc),
                held_back(held),
            )

    def end_dead_leases(self) -> int:
        """End the leases of forwarders of this host that died (an earlier life of this one):
        what they held is due at once. How many deliveries that freed."""
        now = utcnow()
        with self.db.session() as session:
            owners = leases.live_lease_owners(session, now)
        dead = [owner for owner in owners if leases.dead_here(owner, me=self.owner)]
        if not dead:
            return 0
        with self.db.write() as session:
            freed = leases.expire_leases(session, dead, now)
        log.warning("leases of dead forwarders ended owners=%s deliveries=%d", dead, freed)
        return freed

    def run_once(self) -> int:
        """One cycle; returns how many deliveries it claimed (0: nothing was due)."""
        self.remove_spool_copies()  # also what an earlier crash left between commit and delete
        with self.db.write() as session:
            claimed = outbox.claim(
                session,
                owner=self.owner,
                now=utcnow(),
                limit=self.settings.batch_size,
                lease=self.settings.lease,
                policy=self.settings.retry,
            )
        if not claimed:
            return 0
        with self._renewing([item.delivery_id for item in claimed]):
            results = self._send(claimed)
        with self.db.write() as session:
            recorded = outbox.record(
                session,
                owner=self.owner,
                results=results,
                now=utcnow(),
                policy=self.settings.retry,
            )
        self._report(claimed, results, recorded)
        self.remove_spool_copies()
        return len(claimed)

    def remove_spool_copies(self) -> int:
        """Delete the Part-10 spool copy of every delivered instance that still has one. One
        lane at a time does it; another that finds it under way leaves it to that one."""
        if not self._removing.acquire(blocking=False):
            return 0
        try:
            with self.db.session() as session:
                done = outbox.spool_to_remove(session)
            if not done:
                return 0
            self.files.remove_all([path for _delivery_id, path in done])
            with self.db.write() as session:
                outbox.mark_spool_removed(
                    session, [delivery_id for delivery_id, _ in done], utcnow()
                )
            return len(done)
        finally:
            self._removing.release()

    @contextlib.contextmanager
    def _renewing(self, delivery_ids: list[int]) -> Iterator[None]:
        """Renew the lease on ``delivery_ids`` in a thread while the body runs: a slow PACS
        must not make the batch look abandoned (and be sent again by another forwarder)."""
        stop = threading.Event()
        interval = self.settings.lease.total_seconds() / RENEWALS_PER_LEASE

        def renew() -> None:
            while not stop.wait(interval):
                try:
                    with self.db.write() as session:
                        kept = leases.renew(
                            session,
                            owner=self.owner,
                            delivery_ids=delivery_ids,
                            until=utcnow() + self.settings.lease,
                        )
                except Exception as exc:
                    log.warning("lease not renewed owner=%s: %r", self.owner, exc)
                    continue
                if kept < len(delivery_ids):
                    log.warning(
                        "lease lost on %d of %d deliveries owner=%s",
                        len(delivery_ids) - kept,
                        len(delivery_ids),
                        self.owner,
                    )

        thread = threading.Thread(target=renew, name="pointcare-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _send(self, claimed: Sequence[outbox.Claimed]) -> dict[int, InstanceResult]:
        """Each claimed delivery's result, by delivery id. Spool copies are read as requests
        are filled, so memory holds one request's objects at a time, not the whole batch."""
        results: dict[int, InstanceResult] = {}
        request: list[_Outgoing] = []
        size = 0
        for item in claimed:
            try:
                data = self.files.read(item.storage_path)
            except FileNotFoundError:
                log.error(
                    "spool copy missing delivery_id=%s sop=%s",
                    item.delivery_id,
                    item.ref.sop_instance_uid,
                )
                results[item.delivery_id] = InstanceResult(
                    Outcome.FAILED,
                    "the spool copy of this photo is missing on this server",
                    Cause.SPOOL_MISSING,
                )
                continue
            if request and size + len(data) > MAX_REQUEST_BYTES:
                results.update(self._store(request))
                request, size = [], 0
            request.append(_Outgoing(item, data))
            size += len(data)
        if request:
            results.update(self._store(request))
        return results

    def _store(self, request: Sequence[_Outgoing]) -> dict[int, InstanceResult]:
        """Send one request; the result of each delivery id in it (never raises). Instances of
        a request refused as a whole are sent again alone; duplicates are checked."""
        results = self._store_once(request)
        if len(request) > 1:
            for item in request:
                result = results[item.claimed.delivery_id]
                if result.outcome is Outcome.FAILED and result.why in REQUEST_LEVEL:
                    results.update(self._store_once([item]))
        for item in request:
            result = results[item.claimed.delivery_id]
            if result.outcome is Outcome.FAILED and result.why in TO_VERIFY:
                results[item.claimed.delivery_id] = self._verify(item, result)
        return results

    def _store_once(self, request: Sequence[_Outgoing]) -> dict[int, InstanceResult]:
        outgoing = [OutgoingInstance(i.claimed.ref.sop_instance_uid, i.part10) for i in request]
        try:
            report = self.archive.store(outgoing)
        except Exception as exc:  # an archive must answer with a report; never lose the batch
            log.exception("archive store raised owner=%s", self.owner)
            report = StoreReport.for_all(
                [o.sop_instance_uid for o in outgoing],
                Outcome.UNCONFIRMED,
                f"internal error: {exc!r}",
                Cause.INTERNAL,
            )
        unanswered = InstanceResult(
            Outcome.UNCONFIRMED, "the archive gave no result for it", Cause.UNANSWERED
        )
        return {
            item.claimed.delivery_id: report.results.get(
                item.claimed.ref.sop_instance_uid, unanswered
            )
            for item in request
        }

    def _verify(self, item: _Outgoing, refused: InstanceResult) -> InstanceResult:
        """A refusal that may mean "already held": delivered if the PACS finds the instance
        under its study and series."""
        try:
            held = self.archive.holds(item.claimed.ref)
        except Exception as exc:
            return InstanceResult(
                Outcome.UNCONFIRMED,
                f"{refused.reason}; the PACS could not be asked whether it holds it ({exc})",
                Cause.UNREACHABLE,
            )
        if held:
            return InstanceResult(
                Outcome.STORED,
                f"{refused.reason}; it holds the instance (found by QIDO-RS)",
                Cause.ALREADY_HELD,
            )
        return InstanceResult(
            Outcome.FAILED, f"{refused.reason}; a search does not find it there", Cause.REFUSED
        )

    def _report(
        self,
        claimed: Sequence[outbox.Claimed],
        results: dict[int, InstanceResult],
        recorded: outbox.Recorded,
    ) -> None:
        log.info(
            "delivery batch owner=%s claimed=%d delivered=%d retrying=%d parked=%d lost=%d",
            self.owner,
            len(claimed),
            recorded.delivered,
            recorded.retrying,
            recorded.parked,
            recorded.lost,
        )
        failed = [r for r in results.values() if r.outcome is not Outcome.STORED]
        if failed:
            causes = Counter(r.why for r in failed)
            example = {r.why: r.reason for r in failed}
            log.warning(
                "delivery failures owner=%s %s",
                self.owner,
                "; ".join(f"{n} {cause.value} ({example[cause]})" for cause, n in causes.items()),
            )
        if recorded.overdue:
            log.error(
                "PACS unreachable: %d deliveries of this batch have failed %d attempts or more "
                "and are still retried; check the PACS and the network (admin page: "
                "/admin/deliveries)",
                recorded.overdue,
                self.settings.retry.max_attempts,
            )


class ForwarderThread:
    """A forwarder running in a background thread of ``pointcare serve``."""

    def __init__(self, forwarder: Forwarder, *, join_timeout: float) -> None:
        self.forwarder = forwarder
        self._stop = threading.Event()
        self._join_timeout = join_timeout
        self._thread = threading.Thread(
            target=forwarder.run, args=(self._stop,), name="pointcare-forwarder", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the batch in flight (at most ``join_timeout``);
        a batch cut short is sent again once its lease expires."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._join_timeout)
