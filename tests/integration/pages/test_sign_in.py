"""Sign in, sign out, the session cookie, and where the browser goes afterwards."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.app import create_app
from pointcare.auth.accounts import add_user
from pointcare.auth.sessions import COOKIE_NAME
from pointcare.db.models import UserSession
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.conftest import Account
from tests.integration.pages.conftest import HTML, HTMX, OBERG, sign_in
from tests.support import csrf


def set_cookie(response_headers: list[str]) -> str:
    cookies = [value for value in response_headers if value.startswith(COOKIE_NAME + "=")]
    assert len(cookies) == 1, response_headers
    return cookies[0]


def test_sign_in_sets_a_session_cookie_and_redirects(
    client: TestClient[Litestar], accounts: dict[str, Account]
) -> None:
    response = sign_in(client, accounts["photographer"])

    assert response.headers["location"] == "/"
    cookie = set_cookie(response.headers.get_list("set-cookie"))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags
    assert not any(flag.startswith(("max-age", "expires")) for flag in flags)
    home = client.get("/", headers=HTML)
    assert home.status_code == 200
    assert "Find patient" in home.text
    assert "Photographer" in home.text


def test_the_cookie_is_secure_when_configured(settings: Settings) -> None:
    secure = replace(settings, data_dir=settings.data_dir / "tls", secure_cookies=True)
    runtime = build_runtime(secure)
    try:
        with runtime.db.write() as session:
            add_user(session, username="nurse", role="photographer", password="nurse-password-1")
        # Secure cookies come back only over TLS (the pre-session CSRF cookie included).
        app = create_app(secure, runtime=runtime)
        with TestClient(app, base_url="https://testserver.local") as client:
            csrf.arm(client)
            response = client.post(
                "/login",
                data={"username": "nurse", "password": "nurse-password-1"},
                follow_redirects=False,
            )
        flags = set_cookie(response.headers.get_list("set-cookie")).lower()
        assert "; secure" in flags
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("username", "password"),
    [("nurse", "not-the-password"), ("nobody", "nurse-test-password"), ("", "")],
)
def test_a_failed_sign_in_says_the_same_whatever_was_wrong(
    client: TestClient[Litestar], accounts: dict[str, Account], username: str, password: str
) -> None:
    csrf.arm(client)
    response = client.post(
        "/login", data={"username": username, "password": password}, headers=HTML
    )

    assert response.status_code == 401
    assert "User name or password is wrong" in response.text
    assert "set-cookie" not in response.headers
    assert 'type="password"' in response.text
    assert 'value="not-the-password"' not in response.text


def test_sign_in_goes_back_to_the_page_asked_for(
    client: TestClient[Litestar], accounts: dict[str, Account]
) -> None:
    wanted = "/patients/PC100001/capture?issuer=PCDEMO"
    csrf.arm(client)
    response = client.post(
        "/login",
        data={"username": "doctor", "password": "doctor-test-password", "next": wanted},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == wanted


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/patients",
        "https://evil.example",
        "http:evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/login?next=//evil.example",
        "/\tevil",
    ],
)
def test_sign_in_never_redirects_to_another_site(
    client: TestClient[Litestar], accounts: dict[str, Account], target: str
) -> None:
    csrf.arm(client)
    response = client.post(
        "/login",
        data={"username": "nurse", "password": "nurse-test-password", "next": target},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_sign_in_form_keeps_only_a_safe_next(client: TestClient[Litestar]) -> None:
    evil = client.get("/login", params={"next": "//evil.example"}, headers=HTML)
    kept = client.get("/login", params={"next": "/patients/PC100001"}, headers=HTML)

    assert 'name="next" value="/"' in evil.text
    assert 'name="next" value="/patients/PC100001"' in kept.text


def test_a_page_asked_for_without_a_session_redirects_to_sign_in(
    client: TestClient[Litestar], demo_patients: int
) -> None:
    response = client.get(
        f"{OBERG}/capture", params={"issuer": "PCDEMO"}, headers=HTML, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login?next=%2Fpatients%2FPC100001%2Fcapture%3Fissuer%3DPCDEMO"
    )
    form = client.get(response.headers["location"], headers=HTML)
    assert 'name="next" value="/patients/PC100001/capture?issuer=PCDEMO"' in form.text


def test_sign_out_ends_the_session_on_the_server(
    client: TestClient[Litestar], accounts: dict[str, Account], runtime: Runtime
) -> None:
    sign_in(client, accounts["clinician"])
    token = client.cookies[COOKIE_NAME]

    response = client.post("/logout", headers=HTML, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = set_cookie(response.headers.get_list("set-cookie")).lower()
    assert "max-age=0" in cleared
    with runtime.db.session() as session:
        record = session.scalars(select(UserSession)).one()
        assert record.revoked_at is not None
    # The old cookie, replayed by hand, no longer opens anything.
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, token)
    replay = client.get("/", headers=HTML, follow_redirects=False)
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")


def test_the_header_shows_who_is_signed_in_and_a_sign_out_button(
    client: TestClient[Litestar], runtime: Runtime, accounts: dict[str, Account]
) -> None:
    with runtime.db.write() as session:
        add_user(
            session,
            username="ward",
            role="clinician",
            password="ward-password-1",
            display_name="Dr Ingrid Ödmann",
        )
    csrf.arm(client)
    client.post("/login", data={"username": "ward", "password": "ward-password-1"})

    page = client.get("/", headers=HTML).text

    assert "Dr Ingrid Ödmann" in page
    assert "Clinician" in page
    assert '<form class="sign-out" method="post" action="/logout">' in page


def test_an_htmx_request_after_the_session_ended_navigates_the_whole_page(
    client: TestClient[Litestar],
) -> None:
    response = client.get(
        "/?mrn=PC100001",
        headers={
            **HTMX,
            "HX-Current-URL": "http://testserver.local/patients/PC100001?issuer=PCDEMO",
        },
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Fpatients%2FPC100001%3Fissuer%3DPCDEMO"
    assert response.text == ""


def test_signing_out_without_a_session_just_goes_to_sign_in(client: TestClient[Litestar]) -> None:
    csrf.arm(client)
    response = client.post("/logout", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
