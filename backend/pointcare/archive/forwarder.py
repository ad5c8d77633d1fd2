"""The forwarder: takes photos from the outbox to the PACS, then empties the spool.

One cycle: claim a batch of due deliveries (a short write transaction), read their spool
copies, send them to the archive (one STOW-RS request per batch, split when it would exceed
``MAX_REQUEST_BYTES``), record each instance's result (delivered; retried with backoff; parked
after too many failures), and only then delete the Part-10 spool copies of what the PACS
confirmed (thumbnails stay for the review pages).

A forwarder that is killed half-way leaves its claimed rows pending under a lease; when the
lease expires another forwarder (or the same one, restarted) sends them again. The SOP Instance
UIDs were fixed at ingest, so an object the PACS had already stored is the same instance, and
the PACS answers it as stored: the PACS ends up with each photo once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pointcare.archive import outbox
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.files import FileStore
from pointcare.archive.protocol import (
    Archive,
    InstanceResult,
    Outcome,
    OutgoingInstance,
    StoreReport,
)
from pointcare.db.engine import Database
from pointcare.db.types import utcnow

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""A batch is split into STOW-RS requests of at most this size (or one object, if larger)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwarderSettings:
    batch_size: int
    lease: timedelta
    poll_seconds: float
    retry: RetryPolicy


def forwarder_id() -> str:
    """Names this forwarder in lease columns and logs: host, process, and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


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
        self.owner = owner or forwarder_id()

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; sleep ``poll_seconds`` whenever nothing is due.

        Any error (database or archive down, a bug) is logged and the loop goes on: a
        forwarder that stopped silently would let photos pile up unseen.
        """
        log.info("forwarder started owner=%s", self.owner)
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:
                log.exception("forwarder cycle failed owner=%s", self.owner)
                busy = False
            if not busy:
                stop.wait(self.settings.poll_seconds)
        log.info("forwarder stopped owner=%s", self.owner)

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
            )
        if not claimed:
            return 0
        results = self._send(claimed)
        with self.db.write() as session:
            recorded = outbox.record(
                session,
                owner=self.owner,
                results=results,
                now=utcnow(),
                policy=self.settings.retry,
            )
        log.info(
            "delivery batch owner=%s claimed=%d delivered=%d retrying=%d parked=%d lost=%d",
            self.owner,
            len(claimed),
            recorded.delivered,
            recorded.retrying,
            recorded.parked,
            recorded.lost,
        )
        self.remove_spool_copies()
        return len(claimed)

    def remove_spool_copies(self) -> int:
        """Delete the Part-10 spool copy of every delivered instance that still has one."""
        with self.db.session() as session:
            done = outbox.spool_to_remove(session)
        if not done:
            return 0
        for _delivery_id, path in done:
            self.files.remove(path)
        with self.db.write() as session:
            outbox.mark_spool_removed(session, [delivery_id for delivery_id, _ in done], utcnow())
        return len(done)

    def _send(self, claimed: Sequence[outbox.Claimed]) -> dict[int, InstanceResult]:
        """Each claimed delivery's result, by delivery id. Spool copies are read as requests
        are filled, so memory holds one request's objects at a time, not the whole batch."""
        results: dict[int, InstanceResult] = {}
        request: list[tuple[int, OutgoingInstance]] = []
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
                    Outcome.FAILED, "the spool copy of this photo is missing on this server"
                )
                continue
            if request and size + len(data) > MAX_REQUEST_BYTES:
                results.update(self._store(request))
                request, size = [], 0
            request.append((item.delivery_id, OutgoingInstance(item.ref.sop_instance_uid, data)))
            size += len(data)
        if request:
            results.update(self._store(request))
        return results

    def _store(self, request: Sequence[tuple[int, OutgoingInstance]]) -> dict[int, InstanceResult]:
        """Send one request; the result of each delivery id in it (never raises)."""
        uids = [outgoing.sop_instance_uid for _, outgoing in request]
        try:
            report = self.archive.store([outgoing for _, outgoing in request])
        except Exception as exc:  # an archive must answer with a report; never lose the batch
            log.exception("archive store raised owner=%s", self.owner)
            report = StoreReport.for_all(uids, Outcome.UNCONFIRMED, f"internal error: {exc!r}")
        unanswered = InstanceResult(Outcome.UNCONFIRMED, "the archive gave no result for it")
        return {
            delivery_id: report.results.get(outgoing.sop_instance_uid, unanswered)
            for delivery_id, outgoing in request
        }


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
