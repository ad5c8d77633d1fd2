"""The long-lived parts of a running Pointcare, built once from settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import anyio

from pointcare.archive.files import FileStore
from pointcare.auth.sessions import SessionPolicy
from pointcare.capture.ingest import IngestLimits, PhotoIngest
from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from pointcare.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    files: FileStore
    ingest: PhotoIngest
    session_policy: SessionPolicy
    image_limiter: anyio.CapacityLimiter
    """Bounds concurrent image work (decode, re-encode) to the cores we have."""

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    if migrate:
        upgrade(db.engine)
    files = FileStore(settings.archive_dir)
    ingest = PhotoIngest(
        db,
        files,
        IngestLimits(
            max_image_pixels=settings.max_image_pixels,
            jpeg_quality=settings.jpeg_quality,
            uid_root=settings.uid_root,
            institution_name=settings.institution_name,
        ),
    )
    workers = settings.workers or os.cpu_count() or 2
    return Runtime(
        settings=settings,
        db=db,
        files=files,
        ingest=ingest,
        session_policy=SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        ),
        image_limiter=anyio.CapacityLimiter(workers),
    )
