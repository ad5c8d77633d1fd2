"""``pointcare launch-url`` as a real process: the printed link works against the app."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.identity.demo import seed_demo
from pointcare.launch.demo import demo_issuers_file
from pointcare.runtime import build_runtime
from pointcare.settings import Settings
from tests.support.launch import AUDIENCE, ec_key, private_pem, public_pem


def run(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(settings.data_dir),
        "POINTCARE_DATABASE_URL": settings.database_url,
        "POINTCARE_LAUNCH_AUDIENCE": AUDIENCE,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pointcare", "launch-url", *args],
        capture_output=True,
        text=True,
        env=variables,
        timeout=60,
        check=False,
    )


@pytest.fixture
def es256_file(tmp_path: Path) -> Path:
    key = ec_key()
    (tmp_path / "ehr.pem").write_bytes(public_pem(key))
    (tmp_path / "ehr-private.pem").write_bytes(private_pem(key))
    config = tmp_path / "issuers.toml"
    config.write_text(
        '[[issuer]]\nid = "https://ehr-es.test.example"\nalgorithms = ["ES256"]\n'
        'public_key_file = "ehr.pem"\nsigning_key_file = "ehr-private.pem"\n'
        'roles = { "RN" = "photographer" }\n'
    )
    return config


@contextlib.contextmanager
def client_for(settings: Settings, issuers_file: Path) -> Iterator[TestClient]:  # type: ignore[type-arg]
    changed = replace(
        settings, launch_issuers_file=str(issuers_file), launch_issuer="", launch_issuer_secret=""
    )
    runtime = build_runtime(changed)
    with runtime.db.write() as session:
        seed_demo(session)
    try:
        with TestClient(create_app(changed, runtime=runtime), raise_server_exceptions=False) as c:
            yield c
    finally:
        runtime.close()


def follow(client: TestClient, url: str) -> str:  # type: ignore[type-arg]
    parts = urlsplit(url)
    answer = client.get(
        f"{parts.path}?{parts.query}", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert client.get(location, headers={"Accept": "text/html"}).status_code == 200
    return location


def test_an_es256_issuer_with_a_local_signing_key(settings: Settings, es256_file: Path) -> None:
    with client_for(settings, es256_file) as client:
        done = run(
            settings,
            *("--user", "nora", "--patient", "PC100003", "--role", "RN"),
            *("--base-url", "http://photos.test"),
            POINTCARE_LAUNCH_ISSUERS_FILE=str(es256_file),
        )
        assert done.returncode == 0, done.stderr
        url = done.stdout.strip()
        assert url.startswith("http://photos.test/launch?token=")
        assert follow(client, url) == "/bedside/confirm?mrn=PC100003&issuer=PCDEMO"


def test_the_demo_issuer_and_the_review_view(settings: Settings) -> None:
    demo = demo_issuers_file(settings.data_dir)
    with client_for(settings, demo) as client:
        done = run(settings, "--user", "doctor", "--patient", "PC100001", "--view", "review")
        assert done.returncode == 0, done.stderr
        assert follow(client, done.stdout.strip()) == "/patients/PC100001?issuer=PCDEMO"


def test_refusals_say_why(settings: Settings, es256_file: Path) -> None:
    with client_for(settings, es256_file):
        nothing = run(settings, "--user", "nora", "--patient", "PC100001")
        assert nothing.returncode == 1
        assert "--issuer" in nothing.stderr
        unknown = run(
            settings,
            *("--user", "nora", "--patient", "NOPE999"),
            POINTCARE_LAUNCH_ISSUERS_FILE=str(es256_file),
        )
        assert unknown.returncode == 1
        assert "NOPE999" in unknown.stderr
        broken = run(
            settings,
            *("--user", "nora", "--patient", "PC100001"),
            POINTCARE_LAUNCH_ISSUERS_FILE=str(settings.data_dir / "missing.toml"),
        )
        assert broken.returncode == 2
        assert "missing.toml" in broken.stderr
