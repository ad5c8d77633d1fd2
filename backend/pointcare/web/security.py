"""Who is calling: bearer tokens (API) or the session cookie (browser), and role guards."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.types import (
    ASGIApp,
    Guard,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from pointcare.auth.accounts import active_user, principal_of
from pointcare.auth.csrf import check_request
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.auth.sessions import COOKIE_NAME, resume_session
from pointcare.auth.tokens import InvalidToken, read_api_token
from pointcare.errors import Locked, PasswordChangeRequired
from pointcare.runtime import Runtime
from pointcare.web.shell import SHELL_PATHS

PUBLIC_PATHS = [r"^/healthz(/ready)?$", r"^/login$", r"^/logout$", r"^/static/", r"^/favicon\.ico$"]
PUBLIC_PATHS += SHELL_PATHS  # manifest, service worker, offline page: no patient data
PUBLIC_PATHS += [r"^/launch$"]  # the signed launch token is the credential (pointcare.launch)
PUBLIC_PATHS += [r"^/metrics$"]  # its own credential: POINTCARE_METRICS_TOKEN, else loopback
"""Everything else needs a signed-in user."""


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        runtime: Runtime = connection.app.state.runtime
        header = connection.headers.get("authorization", "")
        cookie = connection.cookies.get(COOKIE_NAME)
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Use 'Authorization: Bearer <token>'.")
            principal = await anyio.to_thread.run_sync(_from_token, runtime, token.strip())
        elif cookie:
            principal = await anyio.to_thread.run_sync(_from_cookie, runtime, cookie)
        else:
            principal = None
        if principal is None:
            raise NotAuthorizedException("Sign in to continue.")
        return AuthenticationResult(user=principal, auth=None)


def _from_token(runtime: Runtime, token: str) -> Principal | None:
    settings = runtime.settings
    try:
        read = read_api_token(
            token, secret_key=settings.secret_key, max_ttl_seconds=settings.token_max_ttl_seconds
        )
    except InvalidToken:
        return None
    with runtime.db.session() as session:
        user = active_user(session, read.user_id)
        if user is None or user.token_generation != read.generation:
            return None  # signed out everywhere since the token was minted
        return principal_of(user)


def _from_cookie(runtime: Runtime, cookie: str) -> Principal | None:
    with runtime.db.session() as session:
        record = resume_session(session, cookie, runtime.session_policy)
        if record is None:
            return None
        return principal_of(
            record.user, record.id, record.launch_patient_id, locked=record.locked_at is not None
        )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_PATH = json.dumps(
    {
        "type": "about:blank",
        "title": "Bad request",
        "status": 400,
        "detail": "The address contains control characters.",
    }
).encode()


class RejectControlCharacters:
    """400 for a path with control characters (a NUL, a newline): no route, file or query may
    ever see one (a NUL makes file system calls fail with a 500, and it is never legitimate)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not _CONTROL.search(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/problem+json")],
        }
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": _BAD_PATH,
            "more_body": False,
        }
        await send(start)
        await send(body)


def authentication_middleware() -> DefineMiddleware:
    return DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS)


async def csrf_protection(request: Request[Any, Any, Any]) -> None:
    """App-wide ``before_request``: state-changing browser requests must carry the CSRF token."""
    runtime: Runtime = request.app.state.runtime
    await check_request(request, runtime.settings.secret_key)


@dataclass(frozen=True, slots=True)
class RoleGuard:
    """A guard admitting only callers with one of ``roles`` (tests read ``roles`` to check that
    every route refuses the others)."""

    roles: frozenset[Role]

    def __call__(self, connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in self.roles:
            raise PermissionDeniedException("Your role does not allow this.")


def requires(*roles: Role) -> Guard:
    """A guard admitting only callers with one of ``roles``."""
    return RoleGuard(frozenset(roles))


WHILE_LOCKED = "pointcare_while_locked"
OPEN_WHILE_LOCKED: dict[str, Any] = {WHILE_LOCKED: True}
"""``opt`` of the few routes a locked session may use: unlocking, and sending photos queued
before the lock."""
SCREEN_LOCKED = "The screen is locked. Type your password to carry on."


def session_lock_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """App-wide: a locked session (the bedside idle lock, held here, not in the page) reaches
    nothing but the routes marked ``OPEN_WHILE_LOCKED``; a reload shows the lock, not the page."""
    principal = connection.scope.get("user")
    if isinstance(principal, Principal) and principal.locked and not handler.opt.get(WHILE_LOCKED):
        raise Locked(SCREEN_LOCKED)


WHILE_CHANGING_PASSWORD = "pointcare_while_changing_password"  # noqa: S105 (a flag name)
OPEN_WHILE_CHANGING_PASSWORD: dict[str, Any] = {WHILE_CHANGING_PASSWORD: True}
"""``opt`` of the routes a user who must change their password may use: the change itself."""
CHOOSE_YOUR_OWN_FIRST = (
    "Choose your own password first: the one you signed in with was given to you by an "
    "administrator."
)


def password_change_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """App-wide: a user signed in with a password an admin gave out (a new account, a reset)
    reaches nothing but the change of password, in a browser or with an API token."""
    principal = connection.scope.get("user")
    if (
        isinstance(principal, Principal)
        and principal.must_change_password
        and not handler.opt.get(WHILE_CHANGING_PASSWORD)
    ):
        raise PasswordChangeRequired(CHOOSE_YOUR_OWN_FIRST)


REVIEW = requires(Role.CLINICIAN, Role.ADMIN)
ADMIN = requires(Role.ADMIN)
