"""Fixtures for the server-rendered pages: browsers signed in by role, a stored photo."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.domain.consent import CONSENT_FIELDS
from tests.conftest import Account
from tests.support import csrf
from tests.support.tools import corpus

HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}
OBERG = "/patients/PC100001"
"""Öberg, Åsa in the demo directory (issuer PCDEMO)."""

SignIn = Callable[[str], TestClient[Litestar]]
Capture = Callable[..., httpx.Response]


def sign_in(client: TestClient[Litestar], account: Account) -> httpx.Response:
    """Sign in through the form; the client then sends the new session's CSRF token."""
    response = client.post(
        "/login",
        data={"username": account.username, "password": account.password},
        headers={**HTML, csrf.HEADER: csrf.fetch_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    csrf.arm(client, "/")
    return response


@pytest.fixture
def browser(app: Litestar, accounts: dict[str, Account], demo_patients: int) -> SignIn:
    """``browser("clinician")``: a client of its own, signed in as that role, asking for HTML.

    These clients are never entered as context managers: several lifespans of one app would
    each close the shared runtime, and their shutdowns can hang. Requests work without one.
    """

    def open_as(role: str) -> TestClient[Litestar]:
        client = TestClient(app=app, raise_server_exceptions=False)
        client.headers.update(HTML)
        sign_in(client, accounts[role])
        return client

    return open_as


@pytest.fixture
def photo_bytes() -> bytes:
    return corpus("photos", "gps", "DSCN0010.jpg").read_bytes()


@pytest.fixture
def capture(photo_bytes: bytes) -> Capture:
    """``capture(client, **fields)`` sends the capture form as a browser would (multipart).

    Consent questions are answered (a consent field given as None is answered "no"); the same
    picture may be sent again (``allow_duplicate``) unless a test says otherwise."""

    def send(
        client: TestClient[Litestar],
        *,
        patient: str = OBERG,
        photo: bytes | None = None,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        form: dict[str, Any] = {
            "body_site": "14975008",
            "laterality": "L",
            "view": "close-up",
            "consent_clinical": "yes",
            "consent_teaching": "yes",
            "consent_publication": "no",
            "consent_method": "verbal",
            "capture_id": str(uuid.uuid4()),
            "captured_at": "2026-05-04T10:15:00+02:00",
            "allow_duplicate": "true",
        }
        form.update(fields)
        for key in CONSENT_FIELDS[:3]:
            if key in fields and fields[key] is None:
                form[key] = "no"
        form = {key: value for key, value in form.items() if value is not None}
        chosen = photo_bytes if photo is None else photo
        return client.post(
            f"{patient}/photos?issuer=PCDEMO",
            data=form,
            files={"file": ("IMG_0001.jpg", chosen, "image/jpeg")},
            headers=headers or HTML,
        )

    return send


def capture_id_in(html: str) -> str:
    found = re.search(r'name="capture_id" value="([0-9a-f-]{36})"', html)
    assert found, "no capture_id in the form"
    return found.group(1)


def path_of(url: str) -> str:
    return url.replace("&amp;", "&")
