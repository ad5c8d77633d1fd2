"""Cross-site request forgery protection for requests the browser authenticates by cookie.

The token is an HMAC, under the instance's secret key, of what identifies the browser:

- signed in: the session cookie (so the token is bound to the server-side session, and a new
  one comes with every sign-in, since sign-in opens a new session);
- not yet signed in (the sign-in form): a random pre-session cookie, set when a page first
  needs a token (signed double submit: a forged request cannot read the cookie to derive it).

Every POST/PUT/PATCH/DELETE without an ``Authorization`` header must carry the token, in the
``X-CSRF-Token`` header (htmx and ``fetch``) or the ``csrf_token`` form field (plain forms).
Bearer-token API calls are exempt: a browser never adds that header on its own, and the
authentication middleware ignores the cookie whenever the header is present.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from pointcare.auth.sessions import COOKIE_NAME
from pointcare.errors import Forbidden

HEADER = "x-csrf-token"
FIELD = "csrf_token"
PRE_SESSION_COOKIE = "pointcare_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NEW_SEED = "pointcare.csrf_seed"
"""Scope key: a pre-session cookie value minted for this response (set by the middleware)."""
FAILED = (
    "This form has expired or did not come from Pointcare. Reload the page and try again; "
    "nothing was saved."
)


class CsrfFailure(Forbidden):
    title = "Form expired"


def _token(secret_key: str, binding: str) -> str:
    mac = hmac.new(secret_key.encode(), f"csrf\x00{binding}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _binding(cookies: dict[str, str]) -> str | None:
    if session := cookies.get(COOKIE_NAME):
        return f"session\x00{session}"
    if seed := cookies.get(PRE_SESSION_COOKIE):
        return f"pre\x00{seed}"
    return None


def token_for(request: Request[Any, Any, Any], secret_key: str) -> str:
    """The token pages put into their forms and meta tag; mints a pre-session cookie if needed."""
    binding = _binding(request.cookies)
    if binding is None:
        seed = request.scope.get(_NEW_SEED)
        if not isinstance(seed, str):
            seed = secrets.token_urlsafe(32)
            request.scope[_NEW_SEED] = seed  # type: ignore[literal-required]
        binding = f"pre\x00{seed}"
    return _token(secret_key, binding)


def needs_check(request: Request[Any, Any, Any]) -> bool:
    return request.method not in SAFE_METHODS and "authorization" not in request.headers


async def check_request(request: Request[Any, Any, Any], secret_key: str) -> None:
    """Raise ``CsrfFailure`` unless this state-changing browser request carries a valid token."""
    if not needs_check(request):
        return
    binding = _binding(request.cookies)
    sent = request.headers.get(HEADER, "")
    if not sent and request.content_type[0] in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # Litestar keeps the parsed form: the handler reads the same one, not the body again.
        value = (await request.form()).get(FIELD, "")
        sent = value if isinstance(value, str) else ""
    if binding is None or not sent:
        raise CsrfFailure(FAILED)
    if not hmac.compare_digest(sent.encode(), _token(secret_key, binding).encode()):
        raise CsrfFailure(FAILED)


def pre_session_cookie(value: str, *, secure: bool) -> Cookie:
    return Cookie(
        key=PRE_SESSION_COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def pre_session_cookie_middleware(*, secure: bool) -> type:
    """Sets the pre-session cookie on the response whose page minted one."""

    class PreSessionCookie:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await self.app(scope, receive, send)
                return

            async def send_with_cookie(message: Message) -> None:
                seed = scope.get(_NEW_SEED)
                if message["type"] == "http.response.start" and isinstance(seed, str):
                    headers = MutableScopeHeaders.from_message(message)
                    cookie = pre_session_cookie(seed, secure=secure)
                    headers.add("set-cookie", cookie.to_header(header=""))
                await send(message)

            await self.app(scope, receive, send_with_cookie)

    return PreSessionCookie
