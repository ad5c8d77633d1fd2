"""The counters this process keeps for Prometheus (``prometheus-client``): ingest latency, ADT
messages by acknowledgement code, audit events that could not be written, what the last
reconciliation of the archive found.

What the database knows (the outbox, the attempts' history) is read from it at each scrape by
``pointcare.archive.monitoring``, so that every node reports the same figures whichever process
sent a photo. ``/metrics`` (``pointcare.web.metrics``) serves both; ``pointcare worker`` and
``pointcare adt-listen`` serve this process's own with ``--metrics-port``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

INGEST_SECONDS = Histogram(
    "pointcare_ingest_seconds",
    "Time to store one uploaded object, from its bytes to the committed index row",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
)
ADT_MESSAGES = Counter(
    "pointcare_adt_messages",
    "HL7 ADT messages answered, by acknowledgement code (AA applied, AE wrong content, "
    "AR not taken or not processed now)",
    ["ack"],
)
AUDIT_WRITE_FAILURES = Counter(
    "pointcare_audit_write_failures",
    "Audit events that could not be written; the access they would have recorded was refused",
)

ARCHIVE_ORPHAN_FILES = Gauge(
    "pointcare_archive_orphan_files",
    "Files without an index row left after this process's last reconciliation (too young to "
    "remove yet, or found by a check without repair)",
)
ARCHIVE_MISSING_FILES = Gauge(
    "pointcare_archive_missing_files",
    "Indexed files missing from the archive at this process's last reconciliation (alert)",
)


@contextmanager
def timed_ingest(kind: str) -> Iterator[None]:
    """Observe how long the block takes in ``INGEST_SECONDS`` under ``kind`` when it succeeds
    (refusals are not stores: they would make the figures look fast)."""
    started = time.perf_counter()
    yield
    INGEST_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)


def serve_process_metrics(port: int) -> None:
    """This process's counters on ``http://127.0.0.1:port/metrics`` (loopback only: the
    numbers say how busy the hospital is, nothing for the network to read)."""
    start_http_server(port, addr="127.0.0.1", registry=REGISTRY)
