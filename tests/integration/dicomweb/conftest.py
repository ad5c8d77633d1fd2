"""One small archive per test module, searched and retrieved by every test of the module.

DICOMweb only reads, so the tests of a module share one app and one archive: the fixtures of
``tests/conftest.py`` are redefined here with module scope, built the same way from the same
constants (a fresh archive per test would cost some 2 s of setup, 50 s for this folder).

The archive: three real photos of two demo patients.
PC100001 (Öberg^Åsa, who has a visit): two photos in one study and series, captured just after
midnight at UTC+2, so the study's local date (20240504) differs from its UTC date (20240503).
PC100003 (O'Brien^Seán): one photo of the face, captured at UTC-5 a month later.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.app import create_app
from pointcare.auth.accounts import add_user
from pointcare.auth.tokens import mint_api_token
from pointcare.db.models import Instance
from pointcare.identity.demo import seed_demo
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.conftest import ACCOUNTS, TEST_SECRET, Account
from tests.integration.conftest import clip_poster
from tests.support import clips as made
from tests.support.clips import ClipFactory
from tests.support.consent import CLINICAL_ONLY
from tests.support.tools import corpus

FOREARM = "14975008"
FACE = "89545001"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


@dataclass(frozen=True, kw_only=True)
class StoredObject:
    """An object of the archive, by its UIDs."""

    study: str
    series: str
    sop: str

    @property
    def path(self) -> str:
        return f"/dicomweb/studies/{self.study}/series/{self.series}/instances/{self.sop}"


@dataclass(frozen=True, kw_only=True)
class Photo(StoredObject):
    mrn: str


@dataclass(frozen=True)
class Archive:
    first: Photo
    second: Photo
    other_patient: Photo


# --- The shared fixtures, with module scope ----------------------------------------------------


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Settings:
    data_dir = tmp_path_factory.mktemp("dicomweb") / "var"
    return Settings(
        data_dir=data_dir,
        database_url=module_database_url,
        secret_key=TEST_SECRET,
        htmx_src="local",
    )


@pytest.fixture(scope="module")
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def accounts(runtime: Runtime) -> dict[str, Account]:
    made: dict[str, Account] = {}
    with runtime.db.write() as session:
        for role, (username, password) in ACCOUNTS.items():
            user = add_user(session, username=username, role=role, password=password)
            made[role] = Account(username, password, role, user.id)
    return made


@pytest.fixture(scope="module")
def demo_patients(runtime: Runtime) -> int:
    with runtime.db.write() as session:
        return seed_demo(session)


@pytest.fixture(scope="module")
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime)


@pytest.fixture(scope="module")
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bearer(runtime: Runtime, accounts: dict[str, Account]) -> Callable[[str], dict[str, str]]:
    def headers(role: str) -> dict[str, str]:
        token = mint_api_token(
            secret_key=runtime.settings.secret_key, user_id=accounts[role].user_id, ttl_seconds=600
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


# --- The archive -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> Archive:
    def store(photo: Path, mrn: str, body_site: str, laterality: str | None, when: str) -> Photo:
        form = {
            "patient_id": mrn,
            "body_site": body_site,
            "capture_id": str(uuid.uuid4()),
            "captured_at": when,
            "allow_duplicate": "true",
            **CLINICAL_ONLY,
        }
        if laterality is not None:
            form["laterality"] = laterality
        response = client.post(
            "/api/v1/photos",
            data=form,
            files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
            headers=bearer("photographer"),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Photo(
            mrn=mrn,
            study=body["study_instance_uid"],
            series=body["series_instance_uid"],
            sop=body["sop_instance_uid"],
        )

    return Archive(
        first=store(
            corpus("photos", "gps", "DSCN0010.jpg"),
            "PC100001",
            FOREARM,
            "L",
            "2024-05-04T00:30:00+02:00",
        ),
        second=store(
            corpus("photos", "orientation", "portrait_6.jpg"),
            "PC100001",
            FOREARM,
            "L",
            "2024-05-04T00:40:00+02:00",
        ),
        other_patient=store(
            corpus("photos", "gps", "DSCN0012.jpg"),
            "PC100003",
            FACE,
            None,
            "2024-06-10T09:00:00-05:00",
        ),
    )


@pytest.fixture(scope="module")
def reviewer(bearer: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Headers of a clinician, who may search and retrieve."""
    return bearer("clinician")


@pytest.fixture(scope="module")
def indexed(runtime: Runtime) -> Callable[[str], Instance]:
    """``indexed(sop_uid)``: the archive's index row of a stored instance."""

    def find(sop_uid: str) -> Instance:
        with runtime.db.session() as session:
            return session.scalars(
                select(Instance).where(Instance.sop_instance_uid == sop_uid)
            ).one()

    return find


@pytest.fixture(scope="module")
def clip(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    clips: ClipFactory,
) -> StoredObject:
    """A video clip of PC100001, posted as the bedside would (its own study)."""
    answer = clip_poster(client, bearer)(clips.make(made.PHONE_MOV))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return StoredObject(
        study=body["study_instance_uid"],
        series=body["series_instance_uid"],
        sop=body["sop_instance_uid"],
    )


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(content type, payload) of each part of a multipart/related body, parsed independently
    of our own encoder, by the standard library's MIME parser."""
    message = BytesParser(policy=compat32).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body
    )
    assert message.is_multipart(), content_type
    parts = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts.append((str(part["Content-Type"]), payload))
    return parts
