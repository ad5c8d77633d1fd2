"""Every route refuses an anonymous caller, and a caller whose role it does not admit.

The routes come from the application's own route table (pages included) and from its OpenAPI
document, so a new route is covered the day it is added: public routes must be listed in
``PUBLIC`` here, and a route without a role guard is open to every signed-in role.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from pointcare.auth.roles import Role
from pointcare.web.security import RoleGuard

PUBLIC = {
    "/healthz",
    "/healthz/ready",
    "/metrics",  # its own credential, the metrics token, else loopback (test_metrics.py)
    "/login",
    "/logout",
    "/launch",  # the signed launch token is the credential
    "/manifest.webmanifest",
    "/sw.js",
    "/offline",
    "/static/{file_path:path}",
}
"""Routes open without a sign-in; none of them shows patient data."""

EXAMPLES = {
    "mrn": "PC100001",
    "study": "1.2.826.0.1.1",
    "series": "1.2.826.0.1.2",
    "instance": "1.2.826.0.1.3",
    "sop": "1.2.826.0.1.3",
    "frames": "1",
    "tag": "7FE00010",
    "delivery_id": "1",
    "finding_id": "1",
    "user_id": "1",
    "session_id": "4d1b2c6e-0000-4000-8000-000000000000",
    "path": "openapi.json",
}
_PARAM = re.compile(r"\{(\w+):\w+\}")
ROLE_REFUSAL = "Your role does not allow this."


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str
    roles: frozenset[Role]

    @property
    def path(self) -> str:
        return _PARAM.sub(lambda m: EXAMPLES[m.group(1)], self.template)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def endpoints(app: Litestar) -> Iterator[Endpoint]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path in PUBLIC:
            continue
        for handler in route.route_handlers:
            guards = [getattr(guard, "func", guard) for guard in handler.resolve_guards()]
            allowed = [guard.roles for guard in guards if isinstance(guard, RoleGuard)]
            roles = frozenset(Role).intersection(*allowed) if allowed else frozenset(Role)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                yield Endpoint(method, route.path, roles)


def call(
    client: TestClient[Litestar], endpoint: Endpoint, headers: dict[str, str]
) -> tuple[int, str, str]:
    answer = client.request(endpoint.method, endpoint.path, headers=headers, follow_redirects=False)
    detail = ""
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        detail = answer.json().get("detail", "")
    return answer.status_code, answer.headers.get("location", ""), detail


def test_the_route_table_is_what_these_tests_expect(app: Litestar) -> None:
    found = list(endpoints(app))
    templates = {e.template for e in found}
    # The roles of the routes that hold the most sensitive data, as decided.
    review = {e.template for e in found if e.roles == {Role.CLINICIAN, Role.ADMIN}}
    admin = {e.template for e in found if e.roles == {Role.ADMIN}}

    assert len(found) > 40
    assert "/patients/{mrn:str}" in review
    assert "/patients/{mrn:str}/break-glass" in review
    assert all(t in review for t in templates if t.startswith("/dicomweb"))
    assert "/admin/deliveries" in admin
    assert "/admin/audit" in admin


def test_every_route_refuses_an_anonymous_caller(app: Litestar, accounts: object) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    wrong = []
    for endpoint in endpoints(app):
        for accept in ("application/json", "text/html"):
            status, location, _ = call(client, endpoint, {"Accept": accept})
            to_sign_in = status == 303 and location.startswith("/login")
            if not (status == 401 or (to_sign_in and endpoint.method == "GET")):
                wrong.append(f"{endpoint} ({accept}): {status} {location}")
    assert not wrong, "\n".join(wrong)


def test_every_route_refuses_a_role_it_does_not_admit(
    app: Litestar, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    tokens = {role: bearer(role.value) for role in Role}
    wrong, checked = [], 0
    for endpoint in endpoints(app):
        for role in set(Role) - endpoint.roles:
            status, _, detail = call(client, endpoint, {**tokens[role], "Accept": "*/*"})
            checked += 1
            if status != 403 or detail != ROLE_REFUSAL:
                wrong.append(f"{endpoint} as {role}: {status} {detail}")
    assert checked > 30
    assert not wrong, "\n".join(wrong)


def test_every_route_of_the_openapi_document_refuses_anonymous_callers(
    app: Litestar, bearer: Callable[[str], dict[str, str]]
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/schema/openapi.json").status_code == 401
    document = client.get("/schema/openapi.json", headers=bearer("photographer")).json()
    known = {re.sub(r":\w+\}", "}", e.template) for e in endpoints(app)}
    wrong = []
    for path, operations in document["paths"].items():
        if path in PUBLIC:
            continue
        assert path in known, f"{path} is in the OpenAPI document but not in the route table"
        for method in operations:
            concrete = re.sub(r"\{(\w+)\}", lambda m: EXAMPLES[m.group(1)], path)
            answer = client.request(method.upper(), concrete)
            if answer.status_code != 401:
                wrong.append(f"{method.upper()} {path}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("scheme", ["Basic abc", "Bearer", "Bearer not-a-token", "Token x"])
def test_a_malformed_authorization_header_is_refused(
    client: TestClient[Litestar], scheme: str
) -> None:
    answer = client.get("/api/v1/body-sites", headers={"Authorization": scheme})
    assert answer.status_code == 401
