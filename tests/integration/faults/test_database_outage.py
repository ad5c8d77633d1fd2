"""PostgreSQL stopped while phones upload: every answer is 201 or 503 with Retry-After (never
500, no traceback in the log); health says the database is out of reach; once it is back, the
phones' retries (same capture_id) store what was refused, and every acknowledged photo reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pointcare.db.engine import Database
from pointcare.db.models import Instance
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.integration.delivery.conftest import small_photo, wait_for
from tests.integration.faults.conftest import WADO_ACCEPT, Sent, seed, send_photo, wado_path
from tests.support.postgres import PostgresCluster, postgres_installed
from tests.support.server import LiveServer
from tests.support.tools import missing

pytestmark = pytest.mark.slow

PHONES = 3


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: stopping it must not touch the other tests' databases."""
    if not postgres_installed():
        missing("PostgreSQL (infra/install-system-packages.sh installs it)")
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_postgresql_stopped_mid_upload_answers_503_and_loses_nothing(
    private_postgres: PostgresCluster, tmp_path: Path
) -> None:
    with private_postgres.database() as url:
        settings = Settings(data_dir=tmp_path / "var", database_url=url, secret_key=TEST_SECRET)
        headers = seed(settings)
        env = {"POINTCARE_DATABASE_URL": url, "POINTCARE_SECRET_KEY": TEST_SECRET}
        with LiveServer(data_dir=settings.data_dir, env=env) as server:
            sent = _upload_through_an_outage(server, headers, private_postgres)

            statuses = {item.response.status_code for item in sent}
            assert statuses == {201, 503}, statuses
            for item in sent:
                if item.response.status_code == 503:
                    assert item.response.headers["retry-after"] == "5"
                    assert item.response.headers["content-type"] == "application/problem+json"
                    # Refused before the COMMIT, or the COMMIT itself went unanswered.
                    detail = item.response.json()["detail"]
                    assert "database cannot be reached" in detail or "did not confirm" in detail

            with httpx.Client(base_url=server.url, timeout=30) as client:
                retried = [
                    send_photo(client, headers, item.photo, item.capture_id)
                    for item in sent
                    if item.response.status_code == 503
                ]
                assert {r.response.status_code for r in retried} <= {200, 201}
                acknowledged = {
                    item.capture_id: item.response.json()
                    for item in [*sent, *retried]
                    if item.response.status_code in (200, 201)
                }
                for answer in acknowledged.values():
                    read = client.get(wado_path(answer), headers={**headers, **WADO_ACCEPT})
                    assert read.status_code == 200, read.text
                    assert answer["sop_instance_uid"].encode() in read.content
            stderr = server.stderr

        assert "Traceback" not in stderr
        refused = sum(item.response.status_code == 503 for item in sent)
        logged = stderr.count("WARNING pointcare.web.problems: 503 try again shortly")
        assert 0 < logged < refused  # one line per cause and minute, not one per request
        database = Database(url)
        try:
            with database.session() as session:
                stored = session.scalar(select(func.count()).select_from(Instance))
        finally:
            database.dispose()
        assert stored == len(acknowledged) == len({item.capture_id for item in sent})


def _upload_through_an_outage(
    server: LiveServer, headers: dict[str, str], cluster: PostgresCluster
) -> list[Sent]:
    """Phones upload without pause; the database stops after some photos are stored and starts
    again after some are refused. What each upload was answered, in order."""
    sent: list[Sent] = []
    stop = threading.Event()

    def count(status: int) -> int:
        return sum(item.response.status_code == status for item in list(sent))

    def phone(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            shot = 0
            while not stop.is_set():
                sent.append(send_photo(client, headers, small_photo(number * 1000 + shot)))
                shot += 1

    with ThreadPoolExecutor(PHONES) as pool:
        phones = [pool.submit(phone, number) for number in range(PHONES)]
        try:
            wait_for(lambda: count(201) >= 6, timeout=60, what="photos stored")
            cluster.halt()
            wait_for(lambda: count(503) >= 6, timeout=60, what="uploads refused")
            health = httpx.get(server.url + "/healthz", timeout=10)
            assert health.status_code == 200
            assert health.json()["database"]["reachable"] is False
            not_ready = httpx.get(server.url + "/healthz/ready", timeout=10)
            assert not_ready.status_code == 503
            assert not_ready.json()["problems"] == ["database unreachable"]
            stored_before = count(201)
            cluster.resume()
            wait_for(
                lambda: httpx.get(server.url + "/healthz/ready", timeout=10).status_code == 200,
                timeout=30,
                what="ready again",
            )
            wait_for(lambda: count(201) >= stored_before + 3, timeout=60, what="stored again")
        finally:
            stop.set()
            for running in phones:
                running.result()
    return sent
