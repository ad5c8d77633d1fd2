"""A password an admin gives out works for POINTCARE_TEMPORARY_PASSWORD_HOURS: unused by then,
it opens nothing, neither a new session nor the change of password in an old one, and the
admin sees it has expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from sqlalchemy import select, update

from pointcare.db.models import AuditRecord, User
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from pointcare.web.pages.login import TEMPORARY_PASSWORD_EXPIRED, WRONG_CREDENTIALS
from tests.conftest import Account
from tests.integration.accounts.conftest import (
    Events,
    sign_in_answer,
    sign_in_refused,
    signed_in,
    temporary_password,
)
from tests.integration.pages.conftest import SignIn

NEW = "a roll of tape by the sink"


def _reset(browser: SignIn, user_id: int) -> str:
    answer = browser("admin").post(f"/admin/users/{user_id}/password")
    assert answer.status_code == 200, answer.text
    assert "It works until" in answer.text
    return temporary_password(answer)


def _expire(runtime: Runtime, user_id: int) -> None:
    with runtime.db.write() as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(temporary_password_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _expires_at(runtime: Runtime, user_id: int) -> datetime | None:
    with runtime.db.session() as session:
        return session.scalar(select(User.temporary_password_expires_at).where(User.id == user_id))


def _login_failures(runtime: Runtime) -> list[str | None]:
    with runtime.db.session() as session:
        return list(
            session.scalars(
                select(AuditRecord.reason)
                .where(AuditRecord.action == "login.failed")
                .order_by(AuditRecord.seq)
            )
        )


def test_a_temporary_password_works_for_the_hours_the_setting_gives(
    app: Litestar, browser: SignIn, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    doctor = accounts["clinician"]
    before = datetime.now(UTC)
    password = _reset(browser, doctor.user_id)
    expires = _expires_at(runtime, doctor.user_id)
    hours = timedelta(hours=runtime.settings.temporary_password_hours)
    assert expires is not None
    assert before + hours <= expires <= datetime.now(UTC) + hours
    page = browser("admin").get(f"/admin/users/{doctor.user_id}").text
    assert "the temporary password works until" in page

    user = signed_in(app, doctor.username, password)
    changed = user.post(
        "/account/password",
        data={"current_password": password, "new_password": NEW, "repeat_password": NEW},
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    assert _expires_at(runtime, doctor.user_id) is None  # the user's own password never expires


def test_an_expired_temporary_password_opens_no_session_and_says_so(
    app: Litestar, browser: SignIn, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    doctor = accounts["clinician"]
    password = _reset(browser, doctor.user_id)
    _expire(runtime, doctor.user_id)

    expired = sign_in_answer(app, doctor.username, password)
    assert expired.status_code == 401
    assert TEMPORARY_PASSWORD_EXPIRED in expired.text
    # A wrong password gets the one message of every wrong sign-in: expiry is told only to
    # whoever typed the temporary password right.
    wrong = sign_in_answer(app, doctor.username, "not-the-temporary-one")
    assert WRONG_CREDENTIALS in wrong.text
    assert TEMPORARY_PASSWORD_EXPIRED not in wrong.text
    assert "temporary password expired" in _login_failures(runtime)

    admin = browser("admin")
    assert "Temporary password expired" in admin.get("/admin/users").text
    assert (
        "Temporary password expired: give a new one"
        in admin.get(f"/admin/users/{doctor.user_id}").text
    )
    fresh = _reset(browser, doctor.user_id)  # a new one works again
    assert signed_in(app, doctor.username, fresh).get("/account/password").status_code == 200


def test_a_session_opened_in_time_cannot_change_the_password_once_it_has_expired(
    app: Litestar, browser: SignIn, runtime: Runtime, accounts: dict[str, Account], events: Events
) -> None:
    doctor = accounts["clinician"]
    password = _reset(browser, doctor.user_id)
    user = signed_in(app, doctor.username, password)
    _expire(runtime, doctor.user_id)

    refused = user.post(
        "/account/password",
        data={"current_password": password, "new_password": NEW, "repeat_password": NEW},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert TEMPORARY_PASSWORD_EXPIRED.split(":")[0] in refused.text
    [event] = events("password.change")
    assert (event.outcome, event.reason) == ("failure", "temporary password expired")
    assert sign_in_refused(app, doctor.username, NEW)


@pytest.mark.parametrize("hours", ["0", "-1"])
def test_the_validity_must_be_positive(hours: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTCARE_TEMPORARY_PASSWORD_HOURS", hours)
    with pytest.raises(ValueError, match="POINTCARE_TEMPORARY_PASSWORD_HOURS must be positive"):
        Settings.from_env()
