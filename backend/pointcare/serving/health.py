"""What a running Pointcare needs to work, checked: can it reach its database, and how much
room is left on the disks it writes to. ``/healthz``, ``/healthz/ready`` and ``/metrics`` show
it; none of it names a patient or a path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pointcare import faults
from pointcare.db.engine import Database
from pointcare.settings import Settings

MEGABYTE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    reachable: bool
    seconds: float
    """How long ``SELECT 1`` took (or failed after)."""
    error: str = ""
    """Why not, for the log (never sent to an unauthenticated client)."""


@dataclass(frozen=True, slots=True)
class DiskSpace:
    name: str
    """What is written there: ``objects``, ``thumbnails``, ``database``."""
    free_bytes: int
    total_bytes: int

    @property
    def free_megabytes(self) -> int:
        return self.free_bytes // MEGABYTE


def check_database(db: Database) -> DatabaseCheck:
    started = time.monotonic()
    try:
        with db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        if faults.as_fault(exc) is None:
            raise
        return DatabaseCheck(False, time.monotonic() - started, faults.describe(exc))
    return DatabaseCheck(True, time.monotonic() - started)


def disk_space(settings: Settings) -> list[DiskSpace]:
    """Free space where Pointcare writes, one entry per filesystem (the archive's folders may
    be links to other disks; the SQLite database lives in the data dir)."""
    places = [
        ("objects", settings.archive_dir / "objects"),
        ("thumbnails", settings.archive_dir / "thumbnails"),
    ]
    database = make_url(settings.effective_database_url)
    if database.get_backend_name() == "sqlite" and database.database not in (None, ":memory:"):
        places.append(("database", Path(database.database).parent))
    found: dict[int, DiskSpace] = {}
    for name, path in places:
        existing = _nearest_existing(path)
        device = existing.stat().st_dev
        if device in found:
            continue
        usage = os.statvfs(existing)
        found[device] = DiskSpace(
            name, usage.f_bavail * usage.f_frsize, usage.f_blocks * usage.f_frsize
        )
    return list(found.values())


def _nearest_existing(path: Path) -> Path:
    """``path`` resolved (a link to another disk counts as that disk), or its nearest parent
    that exists (the archive's folders appear with the first photo)."""
    current = path.resolve()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


class DiskCollector(Collector):
    """Free and total bytes of each disk Pointcare writes to, for ``/metrics``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        free = GaugeMetricFamily(
            "pointcare_disk_free_bytes", "Free bytes where Pointcare writes", labels=["disk"]
        )
        total = GaugeMetricFamily(
            "pointcare_disk_total_bytes", "Size of the disks Pointcare writes to", labels=["disk"]
        )
        for disk in disk_space(self.settings):
            free.add_metric([disk.name], disk.free_bytes)
            total.add_metric([disk.name], disk.total_bytes)
        yield free
        yield total
