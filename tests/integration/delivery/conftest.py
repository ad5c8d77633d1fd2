"""Fixtures for delivery to a PACS: a real Orthanc, small photos, and a Pointcare "site".

A site is a data folder and a database (on the backend under test) with accounts and a patient
of its own (a random MRN, so that QIDO counts in the shared Orthanc are this test's alone),
plus the settings that deliver to a PACS, as environment variables for ``pointcare serve`` and
``pointcare worker`` subprocesses. Delivery runs fast here: short timeouts, polls and backoff.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from pointcare.app import create_app
from pointcare.archive.outbox import DeliveryState
from pointcare.auth.tokens import mint_api_token
from pointcare.db.engine import Database
from pointcare.db.models import Delivery, Instance, Patient, User
from pointcare.identity.names import name_key
from pointcare.runtime import build_runtime
from pointcare.settings import Settings
from tests.conftest import ACCOUNTS, TEST_SECRET
from tests.support.consent import CLINICAL_ONLY
from tests.support.orthanc import Orthanc

PHOTO_COUNT = 50
FOREARM = "14975008"
ISSUER = "PCTEST"

FAST_DELIVERY: dict[str, Any] = {
    "dicomweb_timeout_seconds": 2.0,
    "delivery_batch_size": 10,
    "delivery_max_attempts": 100,
    "delivery_backoff_seconds": 0.2,
    "delivery_backoff_max_seconds": 1.0,
    "delivery_poll_seconds": 0.1,
    "delivery_lease_seconds": 3.0,
}
"""Delivery settings of every site unless a test changes them."""


# --- Orthanc and photos ----------------------------------------------------------------------


def delivering_to(settings: Settings, pacs: Orthanc, **changes: Any) -> Settings:
    """``settings`` with ``pacs`` as the archive (its DICOMweb URL and account)."""
    return replace(
        settings,
        archive="dicomweb",
        dicomweb_url=pacs.dicomweb_url,
        dicomweb_username=pacs.user,
        dicomweb_password=pacs.password,
        **changes,
    )


@pytest.fixture(scope="session")
def orthanc() -> Iterator[Orthanc]:
    """One Orthanc for the session (per xdist worker); tests keep apart by patient and study."""
    server = Orthanc.create()
    try:
        yield server.start()
    finally:
        server.remove()


def small_photo(number: int) -> bytes:
    """A 640x480 upright baseline JPEG without EXIF (the fast path: kept as it is), numbered so
    that every photo differs."""
    image = Image.new("RGB", (640, 480), ((number * 37) % 256, (number * 91) % 256, 160))
    ImageDraw.Draw(image).text((40, 40), f"photo {number}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="session")
def photos() -> list[bytes]:
    return [small_photo(number) for number in range(PHOTO_COUNT)]


# --- A site --------------------------------------------------------------------------------


@dataclass
class Site:
    data_dir: Path
    values: dict[str, Any]
    """Settings field -> value; ``settings`` and ``env`` are both made from it."""
    mrn: str
    tokens: dict[str, str]
    _db: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return Settings(**self.values)

    def env(self, **changes: Any) -> dict[str, str]:
        """POINTCARE_* variables of this site's settings, with ``changes`` (field -> value)."""
        values = {**self.values, **changes}
        return {f"POINTCARE_{name.upper()}": str(value) for name, value in values.items()}

    def headers(self, role: str = "photographer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(
                self.settings.effective_database_url, audit_key=self.settings.effective_audit_key
            )
        return self._db

    def deliveries(self) -> list[Delivery]:
        with self.db.session() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    def states(self) -> dict[DeliveryState, int]:
        counts = dict.fromkeys(DeliveryState, 0)
        for delivery in self.deliveries():
            counts[DeliveryState(delivery.state)] += 1
        return counts

    def spool_files(self) -> list[Path]:
        """Part-10 files still in the spool."""
        return sorted((self.data_dir / "archive" / "objects").rglob("*.dcm"))

    def thumbnails(self) -> list[Path]:
        return sorted((self.data_dir / "archive" / "thumbnails").rglob("*.jpg"))

    def instances(self) -> list[Instance]:
        with self.db.session() as session:
            return list(session.scalars(select(Instance).order_by(Instance.id)))

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


MakeSite = Callable[..., Site]


@pytest.fixture
def make_site(
    database_url: str, tmp_path: Path, password_hashes: dict[str, str]
) -> Iterator[MakeSite]:
    """``make_site(orthanc, via=proxy_url, **settings)``: a site on this test's database that
    delivers to ``orthanc`` (through ``via``, a proxy's DICOMweb URL, when given)."""
    made: list[Site] = []

    def make(pacs: Orthanc, *, via: str | None = None, **changes: Any) -> Site:
        data_dir = tmp_path / f"site{len(made)}"
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "secret_key": TEST_SECRET,
            "archive": "dicomweb",
            "dicomweb_url": via or pacs.dicomweb_url,
            "dicomweb_username": pacs.user,
            "dicomweb_password": pacs.password,
            **FAST_DELIVERY,
            **changes,
        }
        site = Site(data_dir, values, mrn=f"DLV{secrets.token_hex(5).upper()}", tokens={})
        _seed(site, password_hashes)
        made.append(site)
        return site

    yield make
    for site in made:
        site.close()


def _seed(site: Site, password_hashes: dict[str, str]) -> None:
    """Accounts (photographer, admin) and the site's patient, written before any server runs."""
    runtime = build_runtime(site.settings)
    try:
        with runtime.db.write() as session:
            for role in ("photographer", "admin"):
                username, _password = ACCOUNTS[role]
                user = User(
                    username=username,
                    display_name=username.title(),
                    role=role,
                    password_hash=password_hashes[role],
                    active=True,
                )
                session.add(user)
                session.flush()
                site.tokens[role] = mint_api_token(
                    secret_key=TEST_SECRET, user_id=user.id, ttl_seconds=3600
                )
            session.add(
                Patient(
                    mrn=site.mrn,
                    issuer=ISSUER,
                    family_name="Delivery",
                    given_name="Test",
                    name_key=name_key("Delivery", "Test"),
                    birth_date=date(1960, 1, 2),
                    sex="F",
                )
            )
    finally:
        runtime.close()


# --- Uploading, waiting, processes ------------------------------------------------------------


UPLOADERS = 4
"""Phones sending at once."""


def upload_photos(
    target: str | Sequence[str] | httpx.Client, site: Site, photos: Sequence[bytes]
) -> list[dict[str, str]]:
    """Send ``photos`` through the HTTP API in one capture session; each must answer 201.
    The answers, in order.

    ``target``: the base URL of a server, or of several (used in turn), sent to from
    ``UPLOADERS`` threads; or a client (an in-process ``TestClient``), used from this thread.
    """
    session_id = str(uuid.uuid4())

    def send(client: httpx.Client, url: str, number: int) -> dict[str, str]:
        response = client.post(
            url + "/api/v1/photos",
            data={
                "patient_id": site.mrn,
                "issuer": ISSUER,
                "body_site": FOREARM,
                "laterality": "L",
                "capture_id": str(uuid.uuid4()),
                "session_id": session_id,
                "captured_at": f"2026-05-04T10:{number % 60:02d}:00+02:00",
                **CLINICAL_ONLY,
            },
            files={"file": (f"photo{number}.jpg", photos[number], "image/jpeg")},
            headers=site.headers(),
        )
        assert response.status_code == 201, response.text
        answer: dict[str, str] = response.json()
        return answer

    if isinstance(target, httpx.Client):
        return [send(target, "", number) for number in range(len(photos))]
    urls = [target] if isinstance(target, str) else list(target)

    def send_from_a_phone(number: int) -> dict[str, str]:
        with httpx.Client(timeout=60) as client:
            return send(client, urls[number % len(urls)], number)

    with ThreadPoolExecutor(UPLOADERS) as pool:
        return list(pool.map(send_from_a_phone, range(len(photos))))


@contextlib.contextmanager
def in_process_app(site: Site) -> Iterator[TestClient[Litestar]]:
    """The site's app in this process, without a forwarder: for uploads when no running
    server is needed (it saves starting one)."""
    runtime = build_runtime(site.settings)
    app = create_app(site.settings, runtime=runtime, forward_to_pacs=False)
    with TestClient(app=app) as client:
        yield client


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


class WorkerProcess:
    """``pointcare worker`` in a subprocess (own session), output kept in files."""

    def __init__(self, env: dict[str, str]) -> None:
        self._logs = Path(tempfile.mkdtemp(prefix="pointcare-worker-"))
        with open(self._logs / "out", "wb") as out, open(self._logs / "err", "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pointcare", "worker"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                start_new_session=True,
            )

    @property
    def stderr(self) -> str:
        return (self._logs / "err").read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.process.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self._logs, ignore_errors=True)


@pytest.fixture
def workers() -> Iterator[Callable[[dict[str, str]], WorkerProcess]]:
    """``workers(env)`` starts a worker; every worker still running is killed afterwards."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()
