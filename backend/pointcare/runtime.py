"""The long-lived parts of a running Pointcare, built once from settings."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import timedelta

import anyio
from prometheus_client import CollectorRegistry

from pointcare.archive import switching
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.builtin import BuiltinArchive
from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.files import FileStore
from pointcare.archive.forwarder import Forwarder, ForwarderSettings
from pointcare.archive.monitoring import OutboxCollector
from pointcare.archive.protocol import Archive
from pointcare.archive.reader import InstanceReader
from pointcare.auth.sessions import SessionPolicy
from pointcare.capture.clips import ClipIntake, clip_limits
from pointcare.capture.pipeline import ObjectStore
from pointcare.capture.service import CaptureLimits, CaptureService
from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from pointcare.imaging import native, turbojpeg
from pointcare.imaging.photo import keep_image_memory
from pointcare.launch.registry import build_verifier
from pointcare.launch.verify import LaunchVerifier
from pointcare.serving.health import DiskCollector
from pointcare.serving.malloc import give_back_large_buffers
from pointcare.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    files: FileStore
    objects: ObjectStore
    """The one stored-object pipeline: every object is stored through it."""
    capture: CaptureService
    """Carries out capture commands, whichever way in built them."""
    session_policy: SessionPolicy
    image_limiter: anyio.CapacityLimiter
    """Bounds concurrent image work (decode, re-encode) to the cores we have."""
    transcode_limiter: anyio.CapacityLimiter
    """Bounds the DICOMweb answers decoding pixels at once (``DICOMWEB_MAX_TRANSCODES``)."""
    archive: Archive
    """Where photos are archived: the built-in archive, or the PACS (``POINTCARE_ARCHIVE``)."""
    instances: InstanceReader
    """Reads a captured photo from its spool copy, or from the archive once that is gone."""
    launch: LaunchVerifier
    """Verifies EHR launch tokens against the trusted issuers (holds their JWKS caches)."""
    monitoring: CollectorRegistry
    """What ``/metrics`` reads from the database and the disks at each scrape (the process's
    own counters are in ``pointcare.metrics``)."""

    def new_forwarder(self) -> Forwarder | None:
        """A forwarder from the outbox to the PACS; None with the built-in archive."""
        if not self.settings.delivers_to_pacs:
            return None
        s = self.settings
        return Forwarder(
            self.db,
            self.files,
            self.archive,
            ForwarderSettings(
                batch_size=s.delivery_batch_size,
                concurrency=s.delivery_concurrent_requests,
                lease=timedelta(seconds=s.delivery_lease_seconds),
                poll_seconds=s.delivery_poll_seconds,
                retry=RetryPolicy(
                    max_attempts=s.delivery_max_attempts,
                    base_seconds=s.delivery_backoff_seconds,
                    cap_seconds=max(s.delivery_backoff_max_seconds, s.delivery_backoff_seconds),
                ),
            ),
        )

    def close(self) -> None:
        self.archive.close()
        if self.instances.archive is not self.archive:
            self.instances.archive.close()
        self.db.dispose()


def build_archive(settings: Settings, db: Database, files: FileStore) -> Archive:
    if settings.delivers_to_pacs:
        return _pacs(settings)
    return BuiltinArchive(db, files)


def _pacs(settings: Settings) -> DicomwebArchive:
    return DicomwebArchive(
        DicomwebConnection(
            url=settings.dicomweb_url,
            username=settings.dicomweb_username,
            password=settings.dicomweb_password,
            token=settings.dicomweb_token,
            verify_tls=settings.dicomweb_verify_tls,
            ca_bundle=settings.dicomweb_ca_bundle,
            timeout_seconds=settings.dicomweb_timeout_seconds,
            request_seconds=settings.delivery_batch_seconds,
        )
    )


def _reading_archive(settings: Settings, db: Database, archive: Archive) -> Archive:
    """Where captured objects are read from once their spool copy is gone: the archive, or,
    with the built-in archive, the PACS that holds what was delivered before a switch back
    (``pointcare.archive.switching``; refused when no PACS is configured)."""
    if settings.delivers_to_pacs:
        return archive
    with db.session() as session:
        elsewhere = switching.check_builtin_can_serve(
            session, pacs_configured=bool(settings.dicomweb_url)
        )
    return _pacs(settings) if elsewhere else archive


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # holds patient data
    launch = build_verifier(settings)  # first: a bad issuers file stops start-up at once
    db = Database(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        audit_key=settings.effective_audit_key,
    )
    if migrate:
        upgrade(db.engine)
    files = FileStore(settings.archive_dir)
    workers = settings.workers or os.cpu_count() or 2
    keep_image_memory(workers)
    give_back_large_buffers(workers)
    native.use_native_code(settings.native_code)
    turbojpeg.available()  # says at start, not at the first rotated photo, if it is not
    objects = ObjectStore(
        db, files, uid_root=settings.uid_root, deliver_to_pacs=settings.delivers_to_pacs
    )
    capture = CaptureService(
        objects,
        CaptureLimits(
            max_image_pixels=settings.max_image_pixels,
            jpeg_quality=settings.jpeg_quality,
            institution_name=settings.institution_name,
        ),
        clips=ClipIntake(clip_limits(settings)),
        image_slots=threading.BoundedSemaphore(workers),
    )
    archive = build_archive(settings, db, files)
    try:
        reading = _reading_archive(settings, db, archive)
    except BaseException:
        db.dispose()
        raise
    return Runtime(
        settings=settings,
        db=db,
        files=files,
        objects=objects,
        capture=capture,
        session_policy=SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_max_hours),
        ),
        image_limiter=anyio.CapacityLimiter(workers),
        transcode_limiter=anyio.CapacityLimiter(settings.dicomweb_max_transcodes),
        archive=archive,
        instances=InstanceReader(files, reading),
        launch=launch,
        monitoring=_monitoring(settings, db),
    )


def _monitoring(settings: Settings, db: Database) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)  # no query until scraped
    registry.register(OutboxCollector(db, max_attempts=settings.delivery_max_attempts))
    registry.register(DiskCollector(settings))
    return registry
