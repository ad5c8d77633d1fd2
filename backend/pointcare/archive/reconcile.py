"""The reconciler: the archive's files against its index.

A stored object's files (its Part-10 file, a photo's thumbnail) are written before the row that
points to them commits. A process killed in between, or a COMMIT that went unanswered and did
not land, leaves files no row points to: complete patient objects, thumbnails, and temporary
files of a write cut short. Nothing else ever removes them. The other way round, a row whose
file is gone (a disk restored from an old backup, a file deleted by hand) is a photo that can no
longer be shown: it must be seen at once.

``reconcile`` walks ``objects/`` and ``thumbnails/``, compares them with every path the index
knows (``indexed_files``: every kind's row in ``instances``), removes orphans
only once they are older than the grace period (no store takes that long between writing its
files and committing), and reports rows without files loudly (log at ERROR, ``/metrics``, the
exit code of ``pointcare archive check``). Files of delivered objects are not expected: their
spool copy is removed once the PACS holds them.

``pointcare serve`` runs it at start and every ``POINTCARE_RECONCILE_INTERVAL_MINUTES``;
``pointcare archive check [--repair]`` on demand. Several nodes may run it at once: an orphan
removed twice is removed once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.archive.files import FileStore
from pointcare.archive.outbox import DeliveryState
from pointcare.db.engine import Database
from pointcare.db.models import Delivery, Instance
from pointcare.metrics import ARCHIVE_MISSING_FILES, ARCHIVE_ORPHAN_FILES

log = logging.getLogger(__name__)

SCANNED = ("objects", "thumbnails")
"""The archive's folders of stored files (relative to its root)."""
LISTED = 20
"""Rows without files named in the log, at most (all are counted)."""
BATCH = 2_000
"""Files, or index rows, between two pauses of the reconciler."""
PAUSE_SECONDS = 0.005
"""The pause: about as long as a batch takes, so the reconciler takes at most half the
interpreter's time while it runs."""


@dataclass(frozen=True, slots=True)
class IndexedFile:
    path: str
    """Relative to the archive's root, as stored in the index."""
    role: str
    """``object`` (the Part-10 file) or ``thumbnail``."""
    object_kind: str
    """The stored object's kind (``ObjectKind``: photo, document, rejection_note...)."""
    sop_instance_uid: str
    expected: bool
    """False for the Part-10 file of a delivered object: the PACS holds it, the spool copy may
    be gone."""


def indexed_files(session: Session) -> Iterator[IndexedFile]:
    """Every file path the index knows: each stored object's Part-10 file and, for images, its
    thumbnail (every kind lives in ``instances``). Streamed, a batch of rows at a time: an
    archive of a million photos is two million paths."""
    delivered = set(
        session.scalars(
            select(Delivery.instance_id).where(Delivery.state == DeliveryState.DELIVERED.value)
        )
    )
    rows = session.execute(
        select(
            Instance.id,
            Instance.kind,
            Instance.sop_instance_uid,
            Instance.storage_path,
            Instance.thumbnail_path,
        ).execution_options(yield_per=BATCH)
    )
    for number, (row_id, kind, uid, storage_path, thumbnail_path) in enumerate(rows, 1):
        yield IndexedFile(storage_path, "object", kind, uid, row_id not in delivered)
        if thumbnail_path is not None:
            yield IndexedFile(thumbnail_path, "thumbnail", kind, uid, True)
        if number % BATCH == 0:
            _give_way()


@dataclass(frozen=True, slots=True)
class Orphan:
    path: str
    size: int
    age_seconds: float


@dataclass
class Reconciliation:
    files: int = 0
    """Files found in the archive's folders."""
    orphans: list[Orphan] = field(default_factory=list)
    """Files no row points to (removed, with ``repair``, once older than the grace period)."""
    removed: int = 0
    missing: list[IndexedFile] = field(default_factory=list)
    """Rows whose file should be here and is not."""

    @property
    def young_orphans(self) -> int:
        return len(self.orphans) - self.removed


def reconcile(db: Database, files: FileStore, *, grace: timedelta, repair: bool) -> Reconciliation:
    """Compare the archive's files with the index; remove old orphans when ``repair``.

    It holds a set of the paths found and one of the paths indexed, nothing per file beyond
    its name, and it gives way to requests between batches (``_give_way``)."""
    found = set(_walk(files.root))  # before reading the index: a newer file is young anyway
    known: set[str] = set()
    report = Reconciliation(files=len(found))
    with db.session() as session:
        for entry in indexed_files(session):
            known.add(entry.path)
            # Not found by the walk, nor written since.
            unseen = entry.expected and entry.path not in found
            if unseen and not files.resolve(entry.path).exists():
                report.missing.append(entry)
    now = time.time()
    for path in sorted(found - known):
        try:
            stat = files.resolve(path).stat()
        except FileNotFoundError:  # removed meanwhile (a spool copy delivered)
            continue
        orphan = Orphan(path, stat.st_size, max(now - stat.st_mtime, 0.0))
        report.orphans.append(orphan)
        if repair and orphan.age_seconds > grace.total_seconds():
            files.remove(path)
            report.removed += 1
    _tell(report, repair=repair)
    return report


def _walk(root: Path) -> Iterator[str]:
    """The path (relative to ``root``, with "/") of every file under the scanned folders."""
    seen = 0
    for folder in SCANNED:
        pending = [(root / folder, folder)]
        while pending:
            directory, relative = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except FileNotFoundError:  # not made yet, or removed meanwhile
                continue
            for entry in entries:
                name = f"{relative}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), name))
                else:
                    yield name
                    seen += 1
                    if seen % BATCH == 0:
                        _give_way()


def _give_way() -> None:
    """A pause between batches: the reconciler runs in a thread of the server, and without it
    would hold the interpreter from request threads for most of a minute at a million photos
    (a request waiting on the database takes up to the switch interval, 5 ms, to get it back
    at each answer)."""
    time.sleep(PAUSE_SECONDS)


def _tell(report: Reconciliation, *, repair: bool) -> None:
    ARCHIVE_ORPHAN_FILES.set(len(report.orphans) - report.removed)
    ARCHIVE_MISSING_FILES.set(len(report.missing))
    log.info(
        "archive reconciled files=%d orphans=%d removed=%d missing=%d",
        report.files,
        len(report.orphans),
        report.removed,
        len(report.missing),
    )
    if report.missing:
        named = ", ".join(
            f"{m.object_kind} {m.role} {m.sop_instance_uid}" for m in report.missing[:LISTED]
        )
        log.error(
            "%d indexed file(s) missing from the archive (restore them from the backup): %s%s",
            len(report.missing),
            named,
            "" if len(report.missing) <= LISTED else ", ...",
        )
    if repair and report.young_orphans:
        log.info("%d file(s) without a row are too young to remove yet", report.young_orphans)


class Reconciler:
    """Runs ``reconcile`` (with repair) in a background thread of ``pointcare serve``: at start,
    then every ``interval`` (never again when it is zero)."""

    def __init__(
        self, db: Database, files: FileStore, *, grace: timedelta, interval: timedelta
    ) -> None:
        self.db = db
        self.files = files
        self.grace = grace
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pointcare-reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                reconcile(self.db, self.files, grace=self.grace, repair=True)
            except Exception:
                log.exception("archive reconciliation failed")
            if not self.interval or self._stop.wait(self.interval.total_seconds()):
                return
