"""Every route but sign-in, static files and /healthz refuses an anonymous caller."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.auth.tokens import ALGORITHM, AUDIENCE, ISSUER, mint_api_token
from pointcare.runtime import Runtime
from pointcare.web.security import PUBLIC_PATHS

PUBLIC = [re.compile(pattern) for pattern in PUBLIC_PATHS]
PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _example(match: re.Match[str]) -> str:
    """A value of the right shape for a path parameter, so the route itself is reached."""
    name, kind = match.group(1), match.group(2)
    if kind == "int":
        return "1"
    if "uid" in name.lower() or name in {"study", "series", "instance"}:
        return "1.2.3"
    return "x"


def protected_routes(app: Litestar) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        path = PARAMETER.sub(_example, route.path)
        if any(pattern.search(path) for pattern in PUBLIC):
            continue
        for method in sorted(getattr(route, "methods", {"GET"}) - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_there_are_routes_to_check(app: Litestar) -> None:
    paths = {path for _method, path in protected_routes(app)}
    assert {"/api/v1/photos", "/api/v1/patients", "/schema/openapi.json"} <= paths


def test_anonymous_callers_are_refused_everywhere(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    for method, path in protected_routes(app):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        assert response.headers["content-type"].startswith("application/problem+json")


def test_anonymous_browsers_are_sent_to_sign_in(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    for method, path in protected_routes(app):
        if method != "GET" or path.startswith(("/api/", "/dicomweb", "/schema")):
            continue
        response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_health_is_public_and_says_nothing_private(client: TestClient[Litestar]) -> None:
    for path in ("/healthz", "/healthz/ready"):
        response = client.get(path)
        assert response.status_code == 200
        report = response.json()
        assert set(report) == {"status", "problems", "database", "disks"}
        assert (report["status"], report["problems"]) == ("ok", [])
        assert report["database"]["reachable"] is True
        assert set(report["disks"]) <= {"objects", "thumbnails", "database"}
        assert "/" not in response.text  # no paths, no URLs


def forged(secret: str, user_id: int, **changes: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None}, secret, algorithm=ALGORITHM
    )


@pytest.mark.parametrize(
    "make_header",
    [
        lambda secret, uid: "Bearer not-a-jwt",
        lambda secret, uid: "Basic bmFtZTpwYXNz",
        lambda secret, uid: "Bearer ",
        lambda secret, uid: f"Bearer {forged('another-key-entirely-another-key-entirely', uid)}",
        lambda secret, uid: (
            f"Bearer {forged(secret, uid, exp=datetime.now(UTC) - timedelta(minutes=5))}"
        ),
        lambda secret, uid: f"Bearer {forged(secret, uid, aud='someone-else')}",
        lambda secret, uid: f"Bearer {forged(secret, uid, iss='someone-else')}",
        lambda secret, uid: f"Bearer {forged(secret, 999_999)}",
        lambda secret, uid: f"Bearer {forged(secret, uid, exp=None)}",
        lambda secret, uid: (
            "Bearer "
            + jwt.encode({"sub": str(uid), "aud": AUDIENCE, "iss": ISSUER}, None, algorithm="none")
        ),  # type: ignore[arg-type]
    ],
    ids=[
        "garbage",
        "basic",
        "empty",
        "wrong-key",
        "expired",
        "audience",
        "issuer",
        "no-user",
        "no-exp",
        "alg-none",
    ],
)
def test_bad_tokens_are_refused(
    client: TestClient[Litestar],
    runtime: Runtime,
    accounts: dict[str, object],
    make_header: Callable[[str, int], str],
) -> None:
    uid = accounts["clinician"].user_id  # type: ignore[attr-defined]
    response = client.get(
        "/api/v1/patients?identifier=PC100001",
        headers={"Authorization": make_header(runtime.settings.secret_key, uid)},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_good_token_works_and_the_deactivated_user_loses_access(
    client: TestClient[Litestar], runtime: Runtime, accounts: dict[str, object], demo_patients: int
) -> None:
    from pointcare.db.models import User

    uid = accounts["clinician"].user_id  # type: ignore[attr-defined]
    header = {
        "Authorization": "Bearer "
        + mint_api_token(secret_key=runtime.settings.secret_key, user_id=uid, ttl_seconds=60)
    }
    assert client.get("/api/v1/patients?identifier=PC100001", headers=header).status_code == 200
    with runtime.db.write() as session:
        session.get_one(User, uid).active = False
    assert client.get("/api/v1/patients?identifier=PC100001", headers=header).status_code == 401


def test_openapi_document_is_served_to_signed_in_callers(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]]
) -> None:
    response = client.get("/schema/openapi.json", headers=bearer("admin"))
    assert response.status_code == 200
    assert "/api/v1/photos" in response.json()["paths"]


def test_patient_data_is_never_cached(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    response = client.get("/api/v1/patients?identifier=PC100001", headers=bearer("photographer"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
