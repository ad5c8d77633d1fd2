"""One Pointcare installation for an experiment: a data folder, a database, a clinician's
token, the settings as environment variables for its processes, and what it holds."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from pointcare.archive.outbox import DeliveryState
from pointcare.db.engine import Database
from pointcare.db.models import Delivery, Instance
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.integration.faults.conftest import PATIENT, seed
from tests.support.orthanc import SOP_INSTANCE_UID, Orthanc

FAST_DELIVERY = {
    "dicomweb_timeout_seconds": 5.0,
    "delivery_backoff_seconds": 0.5,
    "delivery_backoff_max_seconds": 5.0,
    "delivery_poll_seconds": 0.2,
    "delivery_lease_seconds": 10.0,
}


@dataclass
class Site:
    settings: Settings
    headers: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        """POINTCARE_* variables for ``pointcare serve`` and ``pointcare worker``."""
        values = {
            "DATA_DIR": self.settings.data_dir,
            "DATABASE_URL": self.settings.effective_database_url,
            "SECRET_KEY": self.settings.secret_key,
            "ARCHIVE": self.settings.archive,
            "DICOMWEB_URL": self.settings.dicomweb_url,
            "DICOMWEB_USERNAME": self.settings.dicomweb_username,
            "DICOMWEB_PASSWORD": self.settings.dicomweb_password,
            **{name.upper(): value for name, value in FAST_DELIVERY.items()},
        }
        return {f"POINTCARE_{name}": str(value) for name, value in values.items() if value}

    def index(self) -> tuple[int, int]:
        """(index rows, distinct capture ids) of the photos."""
        with _database(self.settings) as db, db.session() as session:
            rows = session.scalar(select(func.count()).select_from(Instance)) or 0
            distinct = session.scalar(select(func.count(func.distinct(Instance.capture_id))))
        return rows, distinct or 0

    def states(self) -> dict[DeliveryState, int]:
        with _database(self.settings) as db, db.session() as session:
            counted = dict(
                session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
            )
        return {state: counted.get(state.value, 0) for state in DeliveryState}

    def most_attempts(self) -> int:
        with _database(self.settings) as db, db.session() as session:
            return session.scalar(select(func.max(Delivery.attempts))) or 0

    def delivered(self) -> int:
        return self.states()[DeliveryState.DELIVERED]


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    db = Database(settings.effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


def make_site(
    *,
    database_url: str = "",
    data_dir: Path | None = None,
    pacs: Orthanc | None = None,
    via: str | None = None,
    **changes: Any,
) -> Site:
    """A seeded installation; with ``pacs``, delivering to it (through ``via``, a proxy's
    DICOMweb URL, when given)."""
    values: dict[str, Any] = {
        "data_dir": data_dir or Path(tempfile.mkdtemp(prefix="pointcare-chaos-")),
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        **changes,
    }
    if pacs is not None:
        values.update(
            archive="dicomweb",
            dicomweb_url=via or pacs.dicomweb_url,
            dicomweb_username=pacs.user,
            dicomweb_password=pacs.password,
            **FAST_DELIVERY,
        )
    settings = Settings(**values)
    return Site(settings, seed(settings))


def pacs_copies(pacs: Orthanc) -> tuple[int, int]:
    """(instances, distinct SOP Instance UIDs) the PACS holds for the patient."""
    with pacs.client() as client:
        response = client.get(
            "/instances",
            params={"PatientID": PATIENT},
            headers={"Accept": "application/dicom+json"},
        )
    if response.status_code == 204 or not response.content.strip():
        return 0, 0
    response.raise_for_status()
    uids = [item[SOP_INSTANCE_UID]["Value"][0] for item in response.json()]
    return len(uids), len(set(uids))


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def get(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0
