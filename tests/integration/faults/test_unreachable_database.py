"""A database that cannot be reached, over every kind of caller: problem JSON for the API and
DICOMweb, a readable page for a browser, both 503 with Retry-After; health reports it."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.db.engine import Database
from pointcare.runtime import build_runtime
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.integration.faults.conftest import seed

NOWHERE = "postgresql+psycopg://pointcare:secret@127.0.0.1:9/pointcare"


@pytest.mark.parametrize(
    ("path", "headers", "media_type"),
    [
        ("/api/v1/patients?identifier=PC100001", {}, "application/problem+json"),
        ("/dicomweb/studies?PatientID=PC100001", {}, "application/problem+json"),
        ("/patients/PC100001", {"Accept": "text/html"}, "text/html"),
    ],
    ids=["api", "dicomweb", "page"],
)
def test_an_unreachable_database_answers_503_with_retry_after(
    tmp_path: Path, path: str, headers: dict[str, str], media_type: str
) -> None:
    settings = Settings(data_dir=tmp_path / "var", secret_key=TEST_SECRET)
    bearer = seed(settings)
    runtime = build_runtime(settings)
    runtime.db.dispose()
    runtime.db = Database(NOWHERE)  # the server went away after start-up
    try:
        with TestClient(create_app(settings, runtime=runtime)) as client:
            response = client.get(path, headers={**bearer, **headers})
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.headers["content-type"].startswith(media_type)
            assert "database cannot be reached" in response.text
            assert "Traceback" not in response.text

            health = client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["database"]["reachable"] is False
            assert client.get("/healthz/ready").status_code == 503
    finally:
        runtime.close()
