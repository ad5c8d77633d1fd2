"""``GET /metrics``: who may read it, and what it says (from this process and the database)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from pointcare.app import create_app
from pointcare.archive.protocol import Outcome
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.integration.delivery.conftest import small_photo
from tests.integration.delivery.scripted import ScriptedArchive, forwarder_for
from tests.integration.faults.conftest import seed, send_photo
from tests.support.server import LiveServer

TOKEN = "metrics-reader-token-of-the-test"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings,
        metrics_token=TOKEN,
        archive="dicomweb",
        dicomweb_url="http://127.0.0.1:9/dicom-web",
    )


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_need_the_token_when_one_is_set(client: TestClient[Litestar]) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200
    assert right.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_metrics_count_deliveries_attempts_ingest_and_disks(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    headers = seed(runtime.settings)
    stored = REGISTRY.get_sample_value("pointcare_ingest_seconds_count", {"kind": "photo"}) or 0
    uids = [
        send_photo(client, headers, small_photo(n)).response.json()["sop_instance_uid"]
        for n in range(3)
    ]
    archive = ScriptedArchive()
    archive.outcomes = {uids[0]: Outcome.FAILED, uids[1]: Outcome.UNCONFIRMED}
    forwarder_for(runtime, archive).run_once()

    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    found = samples(text)
    assert found[("pointcare_database_up", ())] == 1
    assert found[("pointcare_outbox_deliveries", (("state", "pending"),))] == 2
    assert found[("pointcare_outbox_deliveries", (("state", "delivered"),))] == 1
    assert found[("pointcare_outbox_deliveries", (("state", "parked"),))] == 0
    assert found[("pointcare_outbox_oldest_pending_seconds", ())] > 0
    attempts = "pointcare_delivery_attempts_total"
    assert found[(attempts, (("cause", "refused"), ("outcome", "refused")))] == 1
    assert found[(attempts, (("cause", "server_error"), ("outcome", "unreachable")))] == 1
    assert found[(attempts, (("cause", "stored"), ("outcome", "delivered")))] == 1
    assert found[("pointcare_ingest_seconds_count", (("kind", "photo"),))] == stored + 3
    assert found[("pointcare_disk_free_bytes", (("disk", "objects"),))] > 0
    assert ("pointcare_audit_write_failures_total", ()) in found
    assert "PC100001" not in text  # no patient in the figures


def test_without_a_token_only_this_machine_reads_the_metrics() -> None:
    with LiveServer(env={"POINTCARE_SECRET_KEY": TEST_SECRET}) as server:
        local = httpx.get(server.url + "/metrics", timeout=10)
        assert local.status_code == 200
        assert "pointcare_outbox_deliveries" in local.text
        proxied = httpx.get(
            server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
        )
        assert proxied.status_code == 403
        assert "POINTCARE_METRICS_TOKEN" in proxied.json()["detail"]


def test_a_client_elsewhere_is_refused_without_a_token(runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, metrics_token="")
    with TestClient(app=create_app(runtime.settings, runtime=runtime)) as client:
        # the test client's address is "testclient", not loopback
        assert client.get("/metrics").status_code == 403
