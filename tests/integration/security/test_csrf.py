"""CSRF: every state-changing browser request carries the session's token; bearer calls don't."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare.auth.csrf import PRE_SESSION_COOKIE
from pointcare.auth.sessions import COOKIE_NAME
from pointcare.db.models import Instance, UserSession
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.pages.conftest import HTML, OBERG, Capture, SignIn
from tests.support import csrf

DOCTOR = {"username": "doctor", "password": "doctor-test-password"}


def live_sessions(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.revoked_at.is_(None))
            )
            or 0
        )


def test_sign_in_without_the_form_token_is_refused_and_opens_nothing(
    client: TestClient[Litestar], accounts: dict[str, Account], runtime: Runtime
) -> None:
    answer = client.post("/login", data=DOCTOR, headers=HTML, follow_redirects=False)

    assert answer.status_code == 403
    assert "did not come from Pointcare" in answer.text
    assert "<html" in answer.text  # a readable page, not JSON
    assert COOKIE_NAME not in answer.cookies
    assert live_sessions(runtime) == 0


def test_the_sign_in_form_carries_a_token_bound_to_a_pre_session_cookie(
    client: TestClient[Litestar], accounts: dict[str, Account]
) -> None:
    form = client.get("/login", headers=HTML)
    cookie = [v for v in form.headers.get_list("set-cookie") if v.startswith(PRE_SESSION_COOKIE)]
    assert len(cookie) == 1 and "httponly" in cookie[0].lower()
    token = csrf.page_token(form.text)
    assert f'name="csrf_token" value="{token}"' in form.text

    # The token of another browser (another pre-session cookie) does not fit this one.
    with TestClient(client.app, raise_server_exceptions=False) as other:
        foreign = csrf.fetch_token(other)
    refused = client.post(
        "/login", data={**DOCTOR, "csrf_token": foreign}, headers=HTML, follow_redirects=False
    )
    signed_in = client.post(
        "/login", data={**DOCTOR, "csrf_token": token}, headers=HTML, follow_redirects=False
    )

    assert foreign != token
    assert refused.status_code == 403
    assert signed_in.status_code == 303


def test_a_new_session_brings_a_new_token(
    browser: SignIn, client: TestClient[Litestar], accounts: dict[str, Account]
) -> None:
    before = csrf.fetch_token(client)
    client.post("/login", data={**DOCTOR, "csrf_token": before}, follow_redirects=False)
    first = csrf.fetch_token(client, "/")
    client.cookies.delete(COOKIE_NAME)
    again = csrf.fetch_token(client)
    client.post("/login", data={**DOCTOR, "csrf_token": again}, follow_redirects=False)
    second = csrf.fetch_token(client, "/")

    assert len({before, first, second}) == 3


def test_a_signed_in_form_without_the_token_changes_nothing(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    del nurse.headers[csrf.HEADER]

    sign_out = nurse.post("/logout", follow_redirects=False)
    photo = capture(nurse)
    still_in = nurse.get("/", follow_redirects=False)

    assert sign_out.status_code == 403
    assert photo.status_code == 403
    assert still_in.status_code == 200
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0


def test_the_token_of_another_session_is_refused(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    nurse.headers[csrf.HEADER] = doctor.headers[csrf.HEADER]

    refused = capture(nurse)

    assert refused.status_code == 403
    assert "Reload the page" in refused.text


def test_the_form_field_is_enough_without_the_header(browser: SignIn) -> None:
    doctor = browser("clinician")
    token = doctor.headers.pop(csrf.HEADER)

    answer = doctor.post("/logout", data={"csrf_token": token}, follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_htmx_failure_answers_in_the_alert_area(browser: SignIn, capture: Capture) -> None:
    nurse = browser("photographer")
    del nurse.headers[csrf.HEADER]

    answer = capture(nurse, headers={"Accept": "text/html", "HX-Request": "true"})

    assert answer.status_code == 403
    assert "<html" not in answer.text
    assert "Reload the page" in answer.text


def test_a_cookie_call_to_the_api_without_the_token_gets_problem_json(
    browser: SignIn, photo_bytes: bytes
) -> None:
    nurse = browser("photographer")
    del nurse.headers[csrf.HEADER]

    answer = nurse.post(
        "/api/v1/photos",
        files={"file": ("a.jpg", photo_bytes, "image/jpeg")},
        data={"mrn": "PC100001"},
        headers={"Accept": "application/json"},
    )

    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 403


def test_bearer_calls_need_no_token(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    photo_bytes: bytes,
) -> None:
    headers = bearer("photographer")

    answer = client.post(
        "/api/v1/photos",
        files={"file": ("a.jpg", photo_bytes, "image/jpeg")},
        data={"mrn": "PC100001", "issuer": "PCDEMO"},
        headers=headers,
    )

    # Refused for what the form lacks (consent, site...), never for CSRF.
    assert answer.status_code != 403, answer.text
    assert answer.status_code < 500


def test_safe_methods_need_no_token(browser: SignIn) -> None:
    doctor = browser("clinician")
    del doctor.headers[csrf.HEADER]

    assert doctor.get(OBERG, params={"issuer": "PCDEMO"}).status_code == 200


def test_a_multipart_form_carries_its_token_as_a_field(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    token = nurse.headers.pop(csrf.HEADER)

    stored = capture(nurse, csrf_token=token)

    assert stored.status_code == 201, stored.text
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 1
