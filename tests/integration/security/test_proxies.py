"""Behind a reverse proxy (``POINTCARE_TRUSTED_PROXIES``), against a real server: the client a
trusted proxy names is the one sign-in limits and the audit trail see, and nobody else's
``X-Forwarded-*`` headers are believed.

The test is the proxy: it connects from 127.0.0.1 and sends the headers nginx would.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.support.consent import CLINICAL_ONLY
from tests.support.csrf import arm
from tests.support.server import LiveServer, live_env

pytestmark = pytest.mark.slow

LIMITS = {"POINTCARE_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}
VICTIM, ATTACKER = "192.168.7.21", "192.168.9.66"


def sign_in(server: LiveServer, password: str, forwarded_for: str, **headers: str) -> int:
    with httpx.Client(base_url=server.url, trust_env=False) as browser:
        browser.headers.update({"X-Forwarded-For": forwarded_for, **headers})
        arm(browser)
        answer = browser.post("/login", data={"username": "doctor", "password": password})
        return answer.status_code


def audited_addresses(server: LiveServer) -> list[tuple[str, str | None]]:
    with sqlite3.connect(server.data_dir / "pointcare.db") as db:
        rows = db.execute("SELECT action, client_address FROM audit_events ORDER BY seq")
        return [(action, address) for action, address in rows if action.startswith("login")]


@pytest.fixture
def behind_proxy() -> Iterator[LiveServer]:
    env = live_env(POINTCARE_TRUSTED_PROXIES="127.0.0.1", **LIMITS)
    with LiveServer(demo=True, env=env) as server:
        yield server


def test_behind_a_trusted_proxy_one_client_locks_only_itself(behind_proxy: LiveServer) -> None:
    server = behind_proxy
    for _ in range(2):
        assert sign_in(server, "wrong", ATTACKER) == 401
    assert sign_in(server, "wrong", ATTACKER) == 429  # the third failure locks the address
    assert sign_in(server, "doctor-demo-pass", VICTIM) == 303  # the ward still signs in
    addresses = audited_addresses(server)
    assert ("login.failed", ATTACKER) in addresses
    assert ("login.locked", ATTACKER) in addresses
    assert ("login", VICTIM) in addresses
    assert all(address != "127.0.0.1" for _, address in addresses)


def test_the_scheme_and_host_a_trusted_proxy_names_are_used(behind_proxy: LiveServer) -> None:
    forwarded = {
        "X-Forwarded-For": VICTIM,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "photos.hospital.example",
    }
    with httpx.Client(base_url=behind_proxy.url, trust_env=False, headers=forwarded) as client:
        stored = client.post(
            "/api/v1/photos",
            headers=token_for(behind_proxy, "nurse"),
            data={
                "patient_id": "PC100001",
                "body_site": "14975008",
                "laterality": "L",
                **CLINICAL_ONLY,
            },
            files={"file": ("wound.jpg", small_jpeg(), "image/jpeg")},
        )
        assert stored.status_code == 201, stored.text
        found = client.get(
            "/dicomweb/studies",
            headers={**token_for(behind_proxy, "doctor"), "Accept": "application/dicom+json"},
        )
    assert found.headers["strict-transport-security"].startswith("max-age=")
    studies = found.json()  # the photo just stored, and the demo's histories
    assert studies
    for study in studies:
        retrieve_url = study["00081190"]["Value"][0]
        assert retrieve_url.startswith("https://photos.hospital.example/dicomweb/studies/")


def token_for(server: LiveServer, user: str) -> dict[str, str]:
    made = subprocess.run(
        [sys.executable, "-m", "pointcare", "token", "--user", user],
        env={**os.environ, **live_env(), "POINTCARE_DATA_DIR": str(server.data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {made.stdout.strip()}"}


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 80)).save(out, "JPEG")
    return out.getvalue()


def test_without_trusted_proxies_no_forwarded_header_is_believed() -> None:
    with LiveServer(demo=True, env=live_env(**LIMITS)) as server:
        for n in range(2):  # "clients" claiming other addresses: all one, the peer's
            assert sign_in(server, "wrong", f"192.168.9.{n}") == 401
        assert sign_in(server, "wrong", "192.168.9.2") == 429
        assert sign_in(server, "doctor-demo-pass", VICTIM, X_Forwarded_Proto="https") == 429
        addresses = {address for _, address in audited_addresses(server)}
        with httpx.Client(base_url=server.url, trust_env=False) as client:
            answer = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert addresses == {"127.0.0.1"}
    assert "strict-transport-security" not in answer.headers
