"""A full disk: uploads answer 507 with a plain message and leave nothing behind; reads go on
only where their audit row can still be written (no unaudited reads: else 503); health shows
the disk; once space is freed, the same capture_id stores the photo.

On a real small filesystem (a tmpfs mounted for the test: skipped where mounting is not
allowed), and with ENOSPC raised at the file store boundary (runs everywhere), over each way a
file is written from the API (photo, document).
"""

from __future__ import annotations

import errno
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from pointcare.app import create_app
from pointcare.archive.files import FileStore, StoredFile
from pointcare.db.models import AuditRecord, Instance
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.integration.delivery.conftest import small_photo
from tests.integration.faults.conftest import PATIENT, WADO_ACCEPT, seed, send_photo, wado_path
from tests.support.small_disk import fill, small_filesystem
from tests.unit.dicom.test_pdf import a_pdf

DISK_MEGABYTES = 24


@pytest.fixture
def small_disk() -> Iterator[Path]:
    with small_filesystem(megabytes=DISK_MEGABYTES) as root:
        yield root


def _app(settings: Settings) -> tuple[Runtime, Litestar]:
    runtime = build_runtime(settings)
    return runtime, create_app(settings, runtime=runtime)


def _files(root: Path) -> set[Path]:
    """Every file of the archive (objects, thumbnails, temporary files)."""
    return {path for path in (root / "archive").rglob("*") if path.is_file()}


def _instances(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(Instance)) or 0


def test_a_full_disk_refuses_uploads_with_507_and_reads_only_what_it_can_audit(
    small_disk: Path, database_backend: str, request: pytest.FixtureRequest
) -> None:
    """SQLite lives on the full disk with the archive: its audit rows cannot be written, so
    reads are refused (503). PostgreSQL lives elsewhere: reads go on, audited."""
    database_url = "" if database_backend == "sqlite" else request.getfixturevalue("database_url")
    settings = Settings(
        data_dir=small_disk,
        database_url=database_url,
        secret_key=TEST_SECRET,
        min_free_megabytes=2,
    )
    headers = seed(settings)
    runtime, app = _app(settings)
    try:
        with TestClient(app=app, raise_server_exceptions=False) as client:
            first = send_photo(client, headers, small_photo(1))
            assert first.response.status_code == 201, first.response.text
            assert client.get("/healthz/ready").status_code == 200
            before = _files(small_disk)
            audits_before = _audit_count(runtime)
            failures_before = _audit_failures()

            filler = fill(small_disk)
            refused = send_photo(client, headers, small_photo(2))
            assert refused.response.status_code == 507
            assert refused.response.headers["content-type"] == "application/problem+json"
            assert "disk is full" in refused.response.json()["detail"]
            assert refused.response.headers["retry-after"] == "60"
            assert _files(small_disk) == before  # no thumbnail, object or temporary file left
            assert _instances(runtime) == 1

            read = client.get(wado_path(first.response.json()), headers={**headers, **WADO_ACCEPT})
            if database_backend == "sqlite":
                assert read.status_code == 503
                assert "audit trail" in read.json()["detail"]
                assert b"DICM" not in read.content
                assert _audit_count(runtime) == audits_before
                assert _audit_failures() == failures_before + 1
            else:
                assert read.status_code == 200
                assert _audit_count(runtime) == audits_before + 1

            health = client.get("/healthz").json()
            assert health["disks"]["objects"]["free_bytes"] < 1024 * 1024
            ready = client.get("/healthz/ready")
            assert ready.status_code == 503
            assert "objects: less than 2 MB free" in ready.json()["problems"]

            filler.unlink()
            again = send_photo(client, headers, refused.photo, refused.capture_id)
            assert again.response.status_code == 201, again.response.text
            assert _instances(runtime) == 2
            read = client.get(wado_path(first.response.json()), headers={**headers, **WADO_ACCEPT})
            assert read.status_code == 200
    finally:
        runtime.close()


def _audit_failures() -> float:
    return REGISTRY.get_sample_value("pointcare_audit_write_failures_total") or 0.0


def _audit_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


# --- ENOSPC at the file store boundary, over every API way in ---------------------------------


def _post_photo(client: TestClient[Litestar], headers: dict[str, str], capture_id: str) -> Any:
    return send_photo(client, headers, small_photo(7), capture_id).response


def _post_document(client: TestClient[Litestar], headers: dict[str, str], capture_id: str) -> Any:
    return client.post(
        "/api/v1/documents",
        data={"patient_id": PATIENT, "title": "Consent form", "capture_id": capture_id},
        files={"file": ("consent.pdf", a_pdf(), "application/pdf")},
        headers=headers,
    )


Post = Callable[[TestClient[Litestar], dict[str, str], str], httpx.Response]


@pytest.mark.parametrize("post", [_post_photo, _post_document], ids=["photo", "document"])
def test_enospc_at_the_file_store_answers_507_and_stores_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, post: Post
) -> None:
    headers = seed(settings)
    full = True
    write = FileStore.write

    def write_unless_full(self: FileStore, relative_path: str, data: Any) -> StoredFile:
        if full:
            raise OSError(errno.ENOSPC, "No space left on device", relative_path)
        return write(self, relative_path, data)

    monkeypatch.setattr(FileStore, "write", write_unless_full)
    runtime, app = _app(settings)
    try:
        with TestClient(app=app, raise_server_exceptions=False) as client:
            capture_id = str(uuid.uuid4())
            refused = post(client, headers, capture_id)
            assert refused.status_code == 507
            assert "disk is full" in refused.json()["detail"]
            assert not _files(settings.data_dir)
            full = False
            assert post(client, headers, capture_id).status_code == 201
            assert post(client, headers, capture_id).status_code == 200  # stored once
    finally:
        runtime.close()
