"""Who is calling: bearer tokens (API) or the session cookie (browser), and role guards."""

from __future__ import annotations

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.types import Guard

from pointcare.auth.accounts import active_user, principal_of
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.auth.sessions import COOKIE_NAME, resume_session
from pointcare.auth.tokens import InvalidToken, read_api_token
from pointcare.runtime import Runtime

PUBLIC_PATHS = [r"^/healthz$", r"^/login$", r"^/logout$", r"^/static/", r"^/favicon\.ico$"]
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
    try:
        user_id = read_api_token(token, secret_key=runtime.settings.secret_key)
    except InvalidToken:
        return None
    with runtime.db.session() as session:
        user = active_user(session, user_id)
        return principal_of(user) if user else None


def _from_cookie(runtime: Runtime, cookie: str) -> Principal | None:
    with runtime.db.session() as session:
        record = resume_session(session, cookie, runtime.session_policy)
        return principal_of(record.user, record.id) if record else None


def authentication_middleware() -> DefineMiddleware:
    return DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS)


def requires(*roles: Role) -> Guard:
    """A guard admitting only callers with one of ``roles``."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in allowed:
            raise PermissionDeniedException("Your role does not allow this.")

    return guard


REVIEW = requires(Role.CLINICIAN, Role.ADMIN)
ADMIN = requires(Role.ADMIN)
