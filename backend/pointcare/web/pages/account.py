"""The signed-in user's own account: who they are, changing their password, and "sign out
everywhere"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from pointcare import audit
from pointcare.auth.accounts import active_user, revoke_api_tokens
from pointcare.auth.management import change_own_password
from pointcare.auth.passwords import MIN_PASSWORD_LENGTH, new_password_problems
from pointcare.auth.principal import Principal
from pointcare.auth.sessions import close_all_sessions, live_session_count
from pointcare.errors import InvalidInput, NotAuthenticated, PointcareError, TooManyAttempts
from pointcare.runtime import Runtime
from pointcare.web.pages.common import HOME, page
from pointcare.web.pages.login import (
    TemporaryPasswordExpired,
    check_own_password,
    session_cookie,
)
from pointcare.web.problems import CHANGE_PASSWORD_URL
from pointcare.web.security import OPEN_WHILE_CHANGING_PASSWORD

ACCOUNT = "/account"
NO_STORE = {"Cache-Control": "no-store"}
NO_PASSWORD_HERE = "You sign in from the EHR: your password is the EHR's, and is changed there."  # noqa: S105


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""
    repeat_password: str = ""


@get(ACCOUNT, sync_to_thread=True, include_in_schema=False)
def account_page(
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    changed: FromQuery[str | None] = None,
) -> Response[Any]:
    with runtime.db.session() as session:
        sessions = live_session_count(session, principal.user_id)
        user = active_user(session, principal.user_id)
        has_password = user is not None and user.password_hash is not None
    return page(
        "pages/account.html",
        sessions=sessions,
        has_password=has_password,
        password_changed=changed == "password",
    )


@get(
    CHANGE_PASSWORD_URL,
    sync_to_thread=False,
    include_in_schema=False,
    opt=OPEN_WHILE_CHANGING_PASSWORD,
)
def password_page(principal: NamedDependency[Principal]) -> Response[Any]:
    return _password_form(principal)


def _password_form(principal: Principal, problem: PointcareError | None = None) -> Response[Any]:
    return page(
        "pages/account_password.html",
        status=problem.status_code if problem else 200,
        headers=NO_STORE,
        forced=principal.must_change_password,
        min_length=MIN_PASSWORD_LENGTH,
        problem=problem,
        errors=problem.errors if problem else {},
    )


@post(CHANGE_PASSWORD_URL, include_in_schema=False, opt=OPEN_WHILE_CHANGING_PASSWORD)
async def change_password(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    data: Annotated[PasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """The current password (throttled as a sign-in), then the new one twice; the user's other
    sessions end and their API tokens stop. A user who had to change it goes on to the home
    page."""
    try:
        await anyio.to_thread.run_sync(_change, request, runtime, principal, data)
    except (InvalidInput, NotAuthenticated, TooManyAttempts) as exc:
        if isinstance(exc, NotAuthenticated):  # re-shown as a field error, not a sign-in
            exc = InvalidInput(exc.detail, errors={"current_password": exc.detail})
        return _password_form(principal, exc)
    target = HOME if principal.must_change_password else f"{ACCOUNT}?changed=password"
    return Redirect(target, status_code=303)


def _change(
    request: Request[Any, Any, Any], runtime: Runtime, principal: Principal, form: PasswordForm
) -> None:
    with runtime.db.session() as session:
        user = active_user(session, principal.user_id)
        if user is None or user.password_hash is None:
            raise InvalidInput(NO_PASSWORD_HERE)
    if not form.current_password:
        message = "Type the password you signed in with."
        raise InvalidInput(message, errors={"current_password": message})
    problems = new_password_problems(
        form.new_password,
        form.repeat_password,
        username=principal.username,
        current=form.current_password,
    )
    if problems:
        raise InvalidInput(next(iter(problems.values())), errors=_fields(problems))
    try:
        check_own_password(request, runtime, principal, form.current_password)
    except NotAuthenticated as exc:
        expired = isinstance(exc, TemporaryPasswordExpired)
        audit.record_now(
            runtime.db,
            audit.AuditEvent(
                action=audit.AuditAction.PASSWORD_CHANGED,
                actor=audit.actor_of(request, principal),
                outcome=audit.Outcome.FAILURE,
                reason="temporary password expired" if expired else "current password wrong",
            ),
        )
        raise
    with runtime.db.write() as session:
        ended = change_own_password(
            session,
            principal.user_id,
            current=form.current_password,
            new=form.new_password,
            repeated=form.repeat_password,
            keep_session_id=principal.session_id,
        )
        audit.record(
            session,
            audit.AuditEvent(
                action=audit.AuditAction.PASSWORD_CHANGED,
                actor=audit.actor_of(request, principal),
                objects=(f"user:{principal.user_id}",),
                details={
                    "was_temporary": principal.must_change_password,
                    "other_sessions_ended": ended,
                    "api_tokens": "revoked",
                },
            ),
        )


def _fields(problems: dict[str, str]) -> dict[str, str]:
    """The rule's field names as the form's."""
    names = {"password": "new_password", "repeat": "repeat_password"}
    return {names.get(key, key): message for key, message in problems.items()}


@post(ACCOUNT + "/sign-out-everywhere", sync_to_thread=True, include_in_schema=False)
def sign_out_everywhere(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> Response[Any]:
    """End every session of this user (a lost phone, a shared computer left signed in), and
    revoke the API tokens minted for them."""
    with runtime.db.write() as session:
        ended = close_all_sessions(session, principal.user_id)
        revoke_api_tokens(session, principal.user_id)
        audit.record(
            session,
            audit.AuditEvent(
                action=audit.AuditAction.LOGOUT,
                actor=audit.actor_of(request, principal),
                details={"everywhere": True, "sessions_ended": ended, "api_tokens": "revoked"},
            ),
        )
    return Redirect("/login", status_code=303, cookies=[session_cookie(runtime, "", max_age=0)])
