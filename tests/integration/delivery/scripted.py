"""A scripted archive and the helpers of the outbox tests (test_outbox, test_outbox_faults).

The fixtures are registered by name (``settings``, ``app``, ``photos``) in the modules that
import them: the app delivers to a PACS that is never reached, the archive being scripted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from sqlalchemy import select

from pointcare.app import create_app
from pointcare.archive import outbox
from pointcare.archive.backoff import RetryPolicy
from pointcare.archive.forwarder import Forwarder, ForwarderSettings
from pointcare.archive.protocol import (
    Cause,
    InstanceRef,
    InstanceResult,
    Outcome,
    OutgoingInstance,
    PatientKey,
    StoreReport,
    StudySummary,
)
from pointcare.db.models import Delivery, Instance
from pointcare.db.types import utcnow
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.integration.conftest import Upload
from tests.integration.delivery.conftest import small_photo

UNREACHABLE = "http://127.0.0.1:9/dicom-web"
LEASE = timedelta(seconds=60)
POLICY = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=60)


@pytest.fixture(name="settings")
def scripted_settings(settings: Settings) -> Settings:
    """This module's app delivers to a PACS (never reached: the archive is scripted)."""
    return replace(settings, archive="dicomweb", dicomweb_url=UNREACHABLE)


@pytest.fixture(name="app")
def scripted_app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)


class ScriptedArchive:
    """An archive that answers ``store`` from ``outcomes`` (by SOP Instance UID, default
    STORED; an ``InstanceResult`` to give its cause too) and keeps what it stored, to give it
    back; or raises ``failure`` when set. A request holding one of ``poison`` is refused as a
    whole (HTTP 400 naming no instance), though the others in it are kept, as Orthanc does."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome | InstanceResult] = {}
        self.failure: Exception | None = None
        self.poison: set[str] = set()
        self.kept: dict[str, bytes] = {}
        self.calls: list[list[str]] = []

    def store(self, instances: Sequence[OutgoingInstance]) -> StoreReport:
        uids = [i.sop_instance_uid for i in instances]
        self.calls.append(uids)
        if self.failure is not None:
            raise self.failure
        refused_whole = bool(self.poison & set(uids))
        results = {}
        for instance in instances:
            scripted = self.outcomes.get(instance.sop_instance_uid, Outcome.STORED)
            result = (
                scripted
                if isinstance(scripted, InstanceResult)
                else InstanceResult(scripted, f"scripted {scripted}")
            )
            if result.outcome is Outcome.STORED and instance.sop_instance_uid not in self.poison:
                self.kept[instance.sop_instance_uid] = instance.part10
            if refused_whole:
                result = InstanceResult(
                    Outcome.FAILED, "HTTP 400: the PACS refused the request", Cause.REQUEST_REFUSED
                )
            results[instance.sop_instance_uid] = result
        return StoreReport(results)

    def holds(self, ref: InstanceRef) -> bool:
        if self.failure is not None:
            raise self.failure
        return ref.sop_instance_uid in self.kept

    def retrieve_instance(self, ref: InstanceRef) -> bytes:
        if self.failure is not None:
            raise self.failure
        return self.kept[ref.sop_instance_uid]

    def search_studies(self, patient: PatientKey) -> list[StudySummary]:
        return []

    def search_instances(self, study_instance_uid: str) -> list[InstanceRef]:
        return []

    def retrieve_rendered(self, ref: InstanceRef) -> bytes:
        raise NotImplementedError

    def retrieve_thumbnail(self, ref: InstanceRef) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass


Photos = Callable[[int], list[str]]


@pytest.fixture(name="photos")
def uploaded_photos(upload: Upload) -> Photos:
    """``photos(n)`` uploads n photos; their SOP Instance UIDs."""

    def take(count: int) -> list[str]:
        uids = []
        for number in range(count):
            response = upload(small_photo(number))
            assert response.status_code == 201, response.text
            uids.append(response.json()["sop_instance_uid"])
        return uids

    return take


def forwarder_for(runtime: Runtime, archive: ScriptedArchive, owner: str = "one") -> Forwarder:
    settings = ForwarderSettings(batch_size=10, lease=LEASE, poll_seconds=0.05, retry=POLICY)
    return Forwarder(runtime.db, runtime.files, archive, settings, owner=owner)


def deliveries(runtime: Runtime) -> dict[str, Delivery]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(Instance.sop_instance_uid, Delivery).join(
                Delivery, Delivery.instance_id == Instance.id
            )
        )
        return {uid: delivery for uid, delivery in rows}


def claim(runtime: Runtime, owner: str, *, at: timedelta = timedelta(0)) -> list[str]:
    with runtime.db.write() as session:
        claimed = outbox.claim(
            session, owner=owner, now=utcnow() + at, limit=10, lease=LEASE, policy=POLICY
        )
    return [item.ref.sop_instance_uid for item in claimed]


def make_due(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        for delivery in session.scalars(select(Delivery)):
            delivery.next_attempt_at = utcnow()


def paths(runtime: Runtime, uid: str) -> tuple[Path, Path]:
    with runtime.db.session() as session:
        instance = session.scalars(select(Instance).where(Instance.sop_instance_uid == uid)).one()
        return runtime.files.resolve(instance.storage_path), runtime.files.resolve(
            instance.thumbnail_path
        )
