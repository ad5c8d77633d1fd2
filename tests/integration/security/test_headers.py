"""Security headers on every answer: CSP with frame-ancestors, referrer, permissions, HSTS."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from pointcare.web.assets import HTMX_CDN_URL, htmx_source
from pointcare.web.headers import content_security_policy
from tests.integration.pages.conftest import HTML


def csp(answer_headers: object) -> dict[str, str]:
    text = str(answer_headers)
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in text.split("; ")}


def app_with(runtime: Runtime, **changes: object) -> TestClient[Litestar]:
    settings = replace(runtime.settings, **changes)  # type: ignore[arg-type]
    return TestClient(
        create_app(settings, runtime=replace(runtime, settings=settings)),
        raise_server_exceptions=False,
    )


def test_every_kind_of_answer_carries_the_headers(client: TestClient[Litestar]) -> None:
    answers = {
        "page": client.get("/login", headers=HTML),
        "redirect": client.get("/", headers=HTML, follow_redirects=False),
        "problem": client.get("/api/v1/patients", params={"mrn": "X"}),
        "static": client.get("/static/css/app.css"),
        "health": client.get("/healthz"),
    }
    for name, answer in answers.items():
        headers = answer.headers
        policy = csp(headers["content-security-policy"])
        assert policy["frame-ancestors"] == "'none'", name
        assert policy["script-src"].startswith("'self'"), name
        assert "'unsafe-inline'" not in headers["content-security-policy"], name
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        assert headers["permissions-policy"].startswith("camera=(self)"), name
        assert "strict-transport-security" not in headers, name  # plain HTTP


def test_frame_ancestors_come_from_the_setting(runtime: Runtime) -> None:
    client = app_with(
        runtime, frame_ancestors="https://ehr.hospital.org, https://*.ehr.example:8443"
    )

    answer = client.get("/login", headers=HTML)

    policy = csp(answer.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "https://ehr.hospital.org https://*.ehr.example:8443"


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https:",
        "https://ehr.example/path",
        "'none' https://ehr.example",
        "ehr.example",
        "x; script-src *",
    ],
)
def test_a_frame_ancestors_setting_that_could_open_framing_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="POINTCARE_FRAME_ANCESTORS"):
        Settings(frame_ancestors=value)


def test_hsts_over_tls(runtime: Runtime) -> None:
    plain = TestClient(create_app(runtime.settings, runtime=runtime), base_url="https://pc.test")
    behind_proxy = app_with(runtime, public_url="https://photos.hospital.org")

    over_tls = plain.get("/healthz")
    public_https = behind_proxy.get("/healthz")

    for answer in (over_tls, public_https):
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_the_cdn_policy_allows_the_pinned_htmx_file_and_nothing_else_there() -> None:
    policy = csp(content_security_policy(htmx_source("cdn")))
    assert policy["script-src"] == f"'self' {HTMX_CDN_URL}"
    assert csp(content_security_policy(htmx_source("local")))["script-src"] == "'self'"
