"""Everyone changes their own password on the account page: the current one first (throttled
as a sign-in), the new one twice and long enough; the user's other sessions and API tokens end,
this browser stays signed in."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.auth.passwords import MIN_PASSWORD_LENGTH
from pointcare.auth.tokens import mint_api_token
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.accounts.conftest import Events, sign_in_refused, signed_in
from tests.support import csrf

NEW = "three green gloves on a trolley"


def _form(current: str, new: str = NEW, repeat: str | None = None) -> dict[str, str]:
    return {
        "current_password": current,
        "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    }


def test_a_change_keeps_this_browser_and_ends_the_others(
    app: Litestar, runtime: Runtime, accounts: dict[str, Account], events: Events
) -> None:
    doctor = accounts["clinician"]
    here = signed_in(app, doctor.username, doctor.password)
    elsewhere = signed_in(app, doctor.username, doctor.password)
    token = mint_api_token(
        secret_key=runtime.settings.secret_key, user_id=doctor.user_id, ttl_seconds=60
    )
    assert "Change your password" in here.get("/account").text

    changed = here.post("/account/password", data=_form(doctor.password), follow_redirects=False)
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == "/account?changed=password"
    assert "Password changed" in here.get(changed.headers["location"]).text
    assert elsewhere.get("/", follow_redirects=False).headers["location"].startswith("/login")
    api = TestClient(app=app, raise_server_exceptions=False)
    assert (
        api.get("/api/v1/body-sites", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert sign_in_refused(app, doctor.username, doctor.password)
    assert signed_in(app, doctor.username, NEW).get("/").status_code == 200
    [event] = events("password.change")
    assert event.outcome == "success"
    assert event.details == {
        "was_temporary": False,
        "other_sessions_ended": 1,
        "api_tokens": "revoked",
    }


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (_form("wrong-password-typed"), "current_password", "That is not your password"),
        (_form(""), "current_password", "Type the password you signed in with."),
        (_form("{current}", "short"), "new_password", f"at least {MIN_PASSWORD_LENGTH}"),
        (_form("{current}", NEW, NEW + "!"), "repeat_password", "The two new passwords differ"),
        (_form("{current}", "{current}"), "new_password", "different from the one you have now"),
        (_form("{current}", "nurse-is-my-name"), "new_password", "must not contain your user name"),
        (_form("{current}", "aaaaaaaaaaaa"), "new_password", "repeats a few characters"),
    ],
)
def test_a_refused_change_says_why_on_the_form(
    app: Litestar,
    accounts: dict[str, Account],
    events: Events,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    nurse = accounts["photographer"]
    filled = {key: value.replace("{current}", nurse.password) for key, value in form.items()}
    browser = signed_in(app, nurse.username, nurse.password)
    answer = browser.post("/account/password", data=filled)
    assert answer.status_code in (422, 401), answer.text
    assert message in answer.text
    assert f'id="{field}-error"' in answer.text
    assert browser.get("/").status_code == 200  # still signed in, password unchanged
    assert not sign_in_refused(app, nurse.username, nurse.password)
    wrong_current = form["current_password"] == "wrong-password-typed"
    assert [e.outcome for e in events("password.change")] == (["failure"] if wrong_current else [])


def test_the_change_form_needs_its_token(app: Litestar, accounts: dict[str, Account]) -> None:
    nurse = accounts["photographer"]
    browser = signed_in(app, nurse.username, nurse.password)
    del browser.headers[csrf.HEADER]
    assert browser.post("/account/password", data=_form(nurse.password)).status_code == 403
    assert not sign_in_refused(app, nurse.username, nurse.password)
