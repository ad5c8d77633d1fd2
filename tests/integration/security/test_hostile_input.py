"""Path traversal and SQL injection in every path and query parameter fail cleanly: a 4xx (or
an empty answer), never a 5xx, and nothing of the server's files, secrets or SQL leaks out."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.conftest import TEST_SECRET
from tests.integration.security.test_route_access import EXAMPLES, endpoints

PAYLOADS = [
    "../../../../etc/passwd",
    "..%2f..%2f..%2fsecret_key",
    "%2e%2e%2f%2e%2e%2fpointcare.db",
    "..\\..\\secret_key",
    "PC100001%00.jpg",
    "' OR '1'='1",
    "1; DROP TABLE patients; --",
    "PC100001' UNION SELECT password_hash FROM users --",
    '"><script>alert(1)</script>',
]
QUERY_NAMES = [
    "issuer", "mrn", "name", "birth_date", "next", "show", "viewport", "quality", "photo",
    "PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
    "StudyDate", "ModalitiesInStudy", "limit", "offset", "includefield", "fuzzymatching",
    "since", "until", "user", "patient", "action", "page", "code", "token", "view",
]  # fmt: skip
"""Every query parameter some route reads (a route ignores those it does not know)."""
LEAKS = re.compile(
    r"root:x:0:0|\$argon2|Traceback|sqlalchemy|psycopg|sqlite3|OperationalError|"
    r"ProgrammingError|syntax error at|\[SQL:|" + re.escape(TEST_SECRET),
    re.IGNORECASE,
)
"""Signs of a file, a secret, a password hash or a database error in an answer (the payload
itself may be quoted back in an error message: that is not a leak)."""


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], template)


def check(answer_status: int, body: str, where: str, problems: list[str]) -> None:
    if answer_status >= 500:
        problems.append(f"{where}: {answer_status}")
    elif LEAKS.search(body):
        problems.append(f"{where}: leaks {LEAKS.search(body)!r}")


@pytest.fixture
def admin_client(
    app: Litestar, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> TestClient[Litestar]:
    client = TestClient(app, raise_server_exceptions=False)
    client.headers.update(bearer("admin"))
    client.headers["Accept"] = "*/*"
    return client


def test_hostile_path_parameters_fail_cleanly(
    admin_client: TestClient[Litestar], app: Litestar
) -> None:
    problems: list[str] = []
    tried = 0
    for endpoint in endpoints(app):
        names = re.findall(r"\{(\w+):\w+\}", endpoint.template)
        for name in names:
            for payload in PAYLOADS:
                path = fill(endpoint.template, {**EXAMPLES, name: payload})
                answer = admin_client.request(endpoint.method, path, follow_redirects=False)
                tried += 1
                check(answer.status_code, answer.text, f"{endpoint.method} {path}", problems)
    assert tried > 200
    assert not problems, "\n".join(problems)


def test_hostile_query_parameters_fail_cleanly(
    admin_client: TestClient[Litestar], app: Litestar
) -> None:
    problems: list[str] = []
    for endpoint in endpoints(app):
        if endpoint.method != "GET":
            continue
        for payload in PAYLOADS:
            params = dict.fromkeys(QUERY_NAMES, payload)
            answer = admin_client.get(endpoint.path, params=params, follow_redirects=False)
            check(answer.status_code, answer.text, f"GET {endpoint.path} ({payload})", problems)
    assert not problems, "\n".join(problems)


def test_static_files_stay_inside_their_folder(client: TestClient[Litestar]) -> None:
    for path in (
        "/static/../../backend/pointcare/settings.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/css/app.css%00.png",
    ):
        answer = client.get(path)
        assert answer.status_code in (400, 401, 403, 404), path
        assert "ENV_PREFIX" not in answer.text and "[project]" not in answer.text, path
