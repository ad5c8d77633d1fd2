"""Sign in and sign out: a server-side session behind an HttpOnly cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from pointcare import audit
from pointcare.auth import throttle
from pointcare.auth.accounts import authenticate, principal_of, temporary_password_expired
from pointcare.auth.principal import Principal
from pointcare.auth.sessions import COOKIE_NAME, close_session, open_session
from pointcare.db.models import User
from pointcare.db.types import utcnow
from pointcare.errors import NotAuthenticated, TooManyAttempts
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page, safe_next

WRONG_CREDENTIALS = "User name or password is wrong. Check both and try again."
"""One message for every failure, so that it never tells which part was wrong."""
WRONG_PASSWORD = "That is not your password. Type it again."  # noqa: S105 (a message)
TEMPORARY_PASSWORD_EXPIRED = (
    "This temporary password has expired: it was not changed in time. Ask an administrator "  # noqa: S105 (a message)
    "for a new one."
)
"""Said only to someone who typed the temporary password right (it tells them nothing new)."""


class TemporaryPasswordExpired(NotAuthenticated):
    """The password typed is the one an admin gave out, and it has stopped working."""


@dataclass
class SignInForm:
    username: str = ""
    password: str = ""
    next: str = ""


def session_cookie(
    runtime: NamedDependency[Runtime], value: str, *, max_age: int | None = None
) -> Cookie:
    # No max_age on sign-in: a browser-session cookie, gone when the browser closes; the server
    # ends the session on its own (idle and absolute limits) whatever the browser keeps.
    return Cookie(
        key=COOKIE_NAME,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        max_age=max_age,
    )


@get("/login", sync_to_thread=False, include_in_schema=False)
def sign_in_page(next: FromQuery[str | None] = None) -> Response[Any]:
    return page("pages/login.html", next=safe_next(next), username="", message="")


@post("/login", sync_to_thread=True, include_in_schema=False)
def sign_in(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    target = safe_next(data.next)
    client = request.client.host if request.client else None
    attempt = throttle.guarded(
        runtime.db,
        throttle.sign_in_keys(data.username, client),
        throttle.ThrottlePolicy.from_settings(runtime.settings),
        lambda session: authenticate(session, data.username, data.password),
        actor=audit.actor_of(request, username=data.username),
    )
    if attempt.lockout is not None:
        return page(
            "pages/login.html",
            status=429,
            headers={"Retry-After": str(attempt.lockout.retry_after_seconds())},
            next=target,
            username=data.username.strip(),
            message=attempt.lockout.message(),
        )
    user = attempt.result
    if user is None or temporary_password_expired(user, utcnow()):
        expired = user is not None
        audit.record_now(
            runtime.db,
            audit.AuditEvent(
                action=audit.AuditAction.LOGIN_FAILED,
                actor=audit.actor_of(request, username=data.username),
                outcome=audit.Outcome.FAILURE,
                reason=(
                    "temporary password expired"
                    if expired
                    else "wrong user name or password, or account inactive"
                ),
            ),
        )
        return page(
            "pages/login.html",
            status=401,
            next=target,
            username=data.username.strip(),
            message=TEMPORARY_PASSWORD_EXPIRED if expired else WRONG_CREDENTIALS,
        )
    with runtime.db.write() as session:
        # A new session, and so a new cookie value, at every sign-in; the one the browser
        # came with (perhaps planted by someone else) ends here.
        if previous := request.cookies.get(COOKIE_NAME):
            close_session(session, previous)
        token = open_session(session, user, runtime.session_policy)
        actor = audit.actor_of(request, principal_of(user))
        audit.record(session, audit.AuditEvent(action=audit.AuditAction.LOGIN, actor=actor))
    return Redirect(target, status_code=303, cookies=[session_cookie(runtime, token)])


@post("/logout", sync_to_thread=True, include_in_schema=False)
def sign_out(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    token = request.cookies.get(COOKIE_NAME)
    if token:
        with runtime.db.write() as session:
            user_id = close_session(session, token)
            user = session.get(User, user_id) if user_id is not None else None
            if user is not None:
                actor = audit.actor_of(request, principal_of(user))
                audit.record(
                    session, audit.AuditEvent(action=audit.AuditAction.LOGOUT, actor=actor)
                )
    return Redirect("/login", status_code=303, cookies=[session_cookie(runtime, "", max_age=0)])


def check_own_password(
    request: Request[Any, Any, Any], runtime: Runtime, principal: Principal, password: str
) -> None:
    """The signed-in user's own password typed again (to unlock a screen, to change it),
    throttled as a sign-in is (same keys, same lockout); ``NotAuthenticated`` when wrong,
    ``TooManyAttempts`` when locked."""
    client = request.client.host if request.client else None
    attempt = throttle.guarded(
        runtime.db,
        throttle.sign_in_keys(principal.username, client),
        throttle.ThrottlePolicy.from_settings(runtime.settings),
        lambda db: authenticate(db, principal.username, password),
        actor=audit.actor_of(request, principal),
    )
    if attempt.lockout is not None:
        raise TooManyAttempts(attempt.lockout.message())
    if attempt.result is None:
        raise NotAuthenticated(WRONG_PASSWORD, errors={"password": "wrong password"})
    if temporary_password_expired(attempt.result, utcnow()):
        raise TemporaryPasswordExpired(
            TEMPORARY_PASSWORD_EXPIRED, errors={"password": "temporary password expired"}
        )
