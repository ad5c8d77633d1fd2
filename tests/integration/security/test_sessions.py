"""Sessions: timeouts, a new session at each sign-in, and signing out everywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare import audit
from pointcare.auth.sessions import COOKIE_NAME
from pointcare.auth.tokens import mint_api_token
from pointcare.db.models import AuditRecord, User, UserSession
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.pages.conftest import HTML, SignIn, sign_in


def test_signing_in_again_replaces_the_session_the_browser_came_with(
    client: TestClient[Litestar], accounts: dict[str, Account], runtime: Runtime
) -> None:
    sign_in(client, accounts["photographer"])
    planted = client.cookies[COOKIE_NAME]

    sign_in(client, accounts["clinician"])

    assert client.cookies[COOKIE_NAME] != planted
    with runtime.db.session() as session:
        rows = session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert [row.revoked_at is not None for row in rows] == [True, False]
    client.cookies.set(COOKIE_NAME, planted)
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_an_idle_or_too_old_session_ends(browser: SignIn, runtime: Runtime) -> None:
    idle, old = browser("photographer"), browser("clinician")
    now = datetime.now(UTC)
    with runtime.db.write() as session:
        rows = session.scalars(select(UserSession).order_by(UserSession.id)).all()
        rows[0].last_seen_at = now - timedelta(minutes=runtime.settings.session_idle_minutes + 1)
        rows[1].expires_at = now - timedelta(seconds=1)

    for client in (idle, old):
        answer = client.get("/", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_sign_out_everywhere_ends_every_session_of_the_user_only(
    browser: SignIn, runtime: Runtime
) -> None:
    phone, desktop, colleague = browser("clinician"), browser("clinician"), browser("admin")

    account = desktop.get("/account")
    assert account.status_code == 200
    assert account.headers["content-type"].startswith("text/html")
    assert "2 devices or browsers" in account.text
    answer = desktop.post("/account/sign-out-everywhere", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert phone.get("/", follow_redirects=False).status_code == 303
    assert desktop.get("/", follow_redirects=False).status_code == 303
    assert colleague.get("/", follow_redirects=False).status_code == 200
    with runtime.db.session() as session:
        event = session.scalars(
            select(AuditRecord).where(AuditRecord.action == audit.AuditAction.LOGOUT)
        ).one()
    assert event.username == "doctor"
    assert event.details == {"everywhere": True, "sessions_ended": 2, "api_tokens": "revoked"}


def test_the_header_links_to_the_account_page(browser: SignIn) -> None:
    page = browser("photographer").get("/").text
    assert 'href="/account"' in page


def test_sign_out_everywhere_needs_a_session(client: TestClient[Litestar]) -> None:
    answer = client.post("/account/sign-out-everywhere", headers=HTML, follow_redirects=False)
    assert answer.status_code in (401, 403)


def test_sign_out_everywhere_revokes_the_users_api_tokens(
    browser: SignIn,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    runtime: Runtime,
    accounts: dict[str, Account],
) -> None:
    before, colleague = bearer("clinician"), bearer("admin")
    assert client.get("/api/v1/body-sites", headers=before).status_code == 200
    browser("clinician").post("/account/sign-out-everywhere", follow_redirects=False)

    assert client.get("/api/v1/body-sites", headers=before).status_code == 401
    assert client.get("/api/v1/body-sites", headers=colleague).status_code == 200
    with runtime.db.session() as session:
        generation = session.get_one(User, accounts["clinician"].user_id).token_generation
    after = mint_api_token(
        secret_key=runtime.settings.secret_key,
        user_id=accounts["clinician"].user_id,
        ttl_seconds=60,
        generation=generation,
    )
    fresh = {"Authorization": f"Bearer {after}"}
    assert client.get("/api/v1/body-sites", headers=fresh).status_code == 200


def test_a_token_made_to_live_longer_than_the_cap_is_refused(
    client: TestClient[Litestar], runtime: Runtime, accounts: dict[str, Account]
) -> None:
    def token(ttl: int) -> dict[str, str]:
        minted = mint_api_token(
            secret_key=runtime.settings.secret_key,
            user_id=accounts["clinician"].user_id,
            ttl_seconds=ttl,
        )
        return {"Authorization": f"Bearer {minted}"}

    cap = runtime.settings.token_max_ttl_seconds
    assert client.get("/api/v1/body-sites", headers=token(cap)).status_code == 200
    assert client.get("/api/v1/body-sites", headers=token(86400)).status_code == 401
