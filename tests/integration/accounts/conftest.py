"""Fixtures of the account tests: browsers signed in by role (the page fixtures), and the
audit events an account change left."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.db.models import AuditRecord
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.pages import conftest as pages
from tests.integration.pages.conftest import HTML
from tests.support import csrf

browser = pages.browser

TEMPORARY = re.compile(r'<p class="temporary-password mono"[^>]*>([a-z0-9-]+)</p>')
Events = Callable[[str], list[AuditRecord]]


def temporary_password(answer: httpx.Response) -> str:
    found = TEMPORARY.search(answer.text)
    assert found, "no temporary password on the page"
    return found.group(1)


def signed_in(app: Litestar, username: str, password: str) -> TestClient[Litestar]:
    """A browser of its own, signed in through the form (CSRF token armed)."""
    client = TestClient(app=app, raise_server_exceptions=False)
    client.headers.update(HTML)
    pages.sign_in(client, Account(username, password, "", 0))
    return client


def sign_in_answer(app: Litestar, username: str, password: str) -> httpx.Response:
    """The answer to a sign-in through the form, from a browser of its own."""
    client = TestClient(app=app, raise_server_exceptions=False)
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers={**HTML, csrf.HEADER: csrf.fetch_token(client)},
        follow_redirects=False,
    )


def sign_in_refused(app: Litestar, username: str, password: str) -> bool:
    return sign_in_answer(app, username, password).status_code == 401


@pytest.fixture
def events(runtime: Runtime) -> Events:
    """``events("admin.user_add")``: the audit events of that action, oldest first."""

    def of(action: str) -> list[AuditRecord]:
        with runtime.db.session() as session:
            return list(
                session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.action == action)
                    .order_by(AuditRecord.seq)
                )
            )

    return of
