"""Sign-in rate limiting: a user name, or an address, locked for a while after failures."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare import audit
from pointcare.app import create_app
from pointcare.auth import throttle
from pointcare.db.models import AuditRecord, SignInThrottle, UserSession
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.conftest import Account
from tests.integration.pages.conftest import HTML
from tests.support import csrf
from tests.support.server import LiveServer, live_env

POLICY = throttle.ThrottlePolicy(
    max_failures=5,
    window=timedelta(minutes=15),
    lockout=timedelta(minutes=15),
    max_failures_per_address=5,
)


def attempt(client: TestClient[Litestar], username: str, password: str) -> httpx.Response:
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers={**HTML, csrf.HEADER: csrf.fetch_token(client)},
        follow_redirects=False,
    )


def audited(runtime: Runtime, action: str) -> int:
    with runtime.db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
            )
            or 0
        )


@pytest.mark.parametrize("username", ["doctor", "nobody-at-all"])
def test_five_failures_lock_the_user_name_known_or_not(
    client: TestClient[Litestar], accounts: dict[str, Account], runtime: Runtime, username: str
) -> None:
    answers = [attempt(client, username, f"wrong-{n}") for n in range(5)]
    # Even the right password (for the known user) is now refused without being checked.
    locked = attempt(client, username, "doctor-test-password")

    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert "try again in 15 minutes" in locked.text
    assert 840 <= int(locked.headers["retry-after"]) <= 900
    assert 'value="doctor-test-password"' not in locked.text
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert audited(runtime, audit.AuditAction.LOGIN_LOCKED) == 2


def test_one_address_trying_many_names_is_locked_too(
    client: TestClient[Litestar], accounts: dict[str, Account], runtime: Runtime
) -> None:
    limit = runtime.settings.login_max_failures_per_address
    answers = [attempt(client, f"guess{n}", "password") for n in range(limit)]
    fresh_name = attempt(client, "admin", "admin-test-password")

    assert limit == 20
    assert {a.status_code for a in answers[:-1]} == {401}
    assert answers[-1].status_code == 429
    assert fresh_name.status_code == 429


def test_a_lock_ends_after_its_time_and_success_forgets_failures(
    runtime: Runtime, accounts: dict[str, Account]
) -> None:
    keys = throttle.sign_in_keys("Doctor ", "10.0.0.7")
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    with runtime.db.write() as session:
        for n in range(4):
            assert throttle.failed(session, keys, POLICY, now=start + timedelta(minutes=n)) is None
        # A success clears the user name's count; the address keeps its four.
        throttle.succeeded(session, keys)
        assert throttle.failed(session, keys[:1], POLICY, now=start + timedelta(minutes=5)) is None
        lock = throttle.failed(session, keys[1:], POLICY, now=start + timedelta(minutes=6))
        assert lock is not None and lock.kind == throttle.ADDRESS
        assert lock.until == start + timedelta(minutes=21)
        assert throttle.locked(session, keys, now=start + timedelta(minutes=20)) == lock
        assert throttle.locked(session, keys, now=start + timedelta(minutes=21)) is None


def test_failures_spread_beyond_the_window_never_lock(
    runtime: Runtime, accounts: dict[str, Account]
) -> None:
    keys = throttle.sign_in_keys("doctor", None)
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    with runtime.db.write() as session:
        for n in range(12):
            moment = start + timedelta(minutes=4 * n)
            assert throttle.failed(session, keys, POLICY, now=moment) is None
        rows = session.scalar(select(func.count()).select_from(SignInThrottle))
        assert rows == 1


def test_the_lockout_follows_the_settings(runtime: Runtime, accounts: dict[str, Account]) -> None:
    strict = replace(runtime.settings, login_max_failures=2, login_lockout_minutes=1)
    app = create_app(strict, runtime=replace(runtime, settings=strict))
    client = TestClient(app, raise_server_exceptions=False)

    answers = [attempt(client, "nurse", "wrong").status_code for _ in range(2)]
    locked = attempt(client, "nurse", "nurse-test-password")

    assert answers == [401, 429]
    assert "try again in 1 minute" in locked.text


def test_settings_refuse_nonsense() -> None:
    for name in (
        "login_max_failures",
        "login_max_failures_per_address",
        "login_window_minutes",
        "login_lockout_minutes",
    ):
        zero: dict[str, Any] = {name: 0}
        with pytest.raises(ValueError, match=name.upper()):
            replace(Settings(), **zero)


@pytest.mark.slow
def test_forty_simultaneous_sign_ins_get_no_more_checks_than_the_limit() -> None:
    """Against a real server, whose worker threads check passwords in parallel: each attempt is
    counted before its hash runs, so the limit holds however many arrive at once."""
    with LiveServer(demo=True, env=live_env()) as server:
        browsers = [
            httpx.Client(base_url=server.url, trust_env=False, timeout=60) for _ in range(40)
        ]
        try:
            for browser in browsers:
                csrf.arm(browser)
            start = threading.Barrier(len(browsers))

            def sign_in(browser: httpx.Client) -> int:
                start.wait()
                answer = browser.post("/login", data={"username": "doctor", "password": "wrong"})
                return answer.status_code

            with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
                statuses = list(pool.map(sign_in, browsers))
            right = browsers[0].post(
                "/login", data={"username": "doctor", "password": "doctor-demo-pass"}
            )
        finally:
            for browser in browsers:
                browser.close()
        with sqlite3.connect(server.data_dir / "pointcare.db") as db:
            checked = db.execute(
                "SELECT count(*) FROM audit_events WHERE action = 'login.failed'"
            ).fetchone()[0]
    assert statuses.count(401) == checked <= 5 - 1  # the fifth wrong one locks: 429
    assert statuses.count(429) == 40 - checked
    assert right.status_code == 429
