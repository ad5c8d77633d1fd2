"""Admin: the accounts, adding one, switching one off or on, its role, a new temporary password.

Thin: each handler reads its form, calls one rule of ``pointcare.auth.management`` inside a
write transaction that also records the audit event, and answers. A refusal (the last admin, an
account opened from the EHR) is audited too, and shown on the account's page. A temporary
password is shown once, in the answer to the post that made it (never stored, never cached).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth import management
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.errors import Conflict, InvalidInput, PointcareError
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page
from pointcare.web.security import ADMIN

log = logging.getLogger(__name__)

USERS = "/admin/users"
NO_STORE = {"Cache-Control": "no-store"}
CHANGED = {
    "role": "Role changed.",
    "off": "Account switched off: its sessions have ended and its API tokens stopped.",
    "on": "Account switched on: its user can sign in again.",
}
"""What the account page says after a change (``?changed=``)."""
T = TypeVar("T")


def account_url(user_id: int) -> str:
    return f"{USERS}/{user_id}"


@dataclass
class NewAccountForm:
    username: str = ""
    display_name: str = ""
    role: str = ""


@dataclass
class RoleForm:
    role: str = ""


@dataclass
class ActiveForm:
    active: str = ""
    """``yes`` switches the account on, ``no`` off."""


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


SHOWN = 100
"""Accounts listed at most: past that, the page asks for more of the name."""


@get(USERS, guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def users_page(db: NamedDependency[Session], q: FromQuery[str] = "") -> Response[Any]:
    """The accounts (those whose user name or name contains ``q``), and the form to add one."""
    return _users(db, NewAccountForm(), query=q)


def _users(
    db: Session, form: NewAccountForm, problem: PointcareError | None = None, *, query: str = ""
) -> Response[Any]:
    query = " ".join(query.split())
    return page(
        "pages/admin_users.html",
        status=problem.status_code if problem else 200,
        headers=NO_STORE,
        query=query,
        accounts=management.list_accounts(db, matching=query, limit=SHOWN),
        roles=list(Role),
        form=form,
        problem=problem,
        errors=problem.errors if problem else {},
    )


@post(USERS, guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def new_account(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    data: Annotated[NewAccountForm, Form],
) -> Response[Any]:
    def add(session: Session) -> management.GivenPassword:
        given = management.add_account(
            session,
            username=data.username,
            display_name=data.display_name,
            role=data.role,
            valid_for=_temporary_validity(runtime),
        )
        _record(
            session,
            request,
            principal,
            audit.AuditAction.USER_ADDED,
            given.user.id,
            {"username": given.user.username, "role": given.user.role},
        )
        return given

    try:
        given = _write(runtime, add)
    except (InvalidInput, Conflict) as exc:
        with runtime.db.session() as db:
            return _users(db, data, exc)
    log.info("account added user_id=%s by user_id=%s", given.user.id, principal.user_id)
    return _given_password(given, added=True)


@get(USERS + "/{user_id:int}", guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def managed_account_page(
    db: NamedDependency[Session],
    user_id: FromPath[int],
    changed: FromQuery[str | None] = None,
) -> Response[Any]:
    return _account(db, user_id, notice=CHANGED.get(changed or ""))


def _account(
    db: Session,
    user_id: int,
    *,
    notice: str | None = None,
    problem: PointcareError | None = None,
) -> Response[Any]:
    return page(
        "pages/admin_user.html",
        status=problem.status_code if problem else 200,
        headers=NO_STORE,
        account=management.account(db, user_id),
        roles=list(Role),
        notice=notice,
        problem=problem,
    )


@post(USERS + "/{user_id:int}/role", guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def change_role(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    user_id: FromPath[int],
    data: Annotated[RoleForm, Form],
) -> Response[Any]:
    def change(session: Session) -> None:
        user, before = management.change_role(session, user_id, data.role)
        _record(
            session,
            request,
            principal,
            audit.AuditAction.USER_CHANGED,
            user.id,
            {
                "username": user.username,
                "change": "role",
                "role_before": before.value,
                "role": user.role,
            },
        )

    return _change(request, runtime, principal, user_id, "role", change)


@post(USERS + "/{user_id:int}/active", guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def switch_account(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    user_id: FromPath[int],
    data: Annotated[ActiveForm, Form],
) -> Response[Any]:
    if data.active not in {"yes", "no"}:
        with runtime.db.session() as db:
            return _account(db, user_id, problem=InvalidInput("Choose on or off."))
    active = data.active == "yes"

    def switch(session: Session) -> None:
        user = management.set_active(session, user_id, active=active)
        change = "switched on" if active else "switched off"
        _record(
            session,
            request,
            principal,
            audit.AuditAction.USER_CHANGED,
            user.id,
            {"username": user.username, "change": change, "role": user.role},
        )

    return _change(request, runtime, principal, user_id, "on" if active else "off", switch)


@post(
    USERS + "/{user_id:int}/password", guards=[ADMIN], sync_to_thread=True, include_in_schema=False
)
def reset_password(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    user_id: FromPath[int],
) -> Response[Any]:
    def reset(session: Session) -> management.GivenPassword:
        given = management.reset_password(session, user_id, valid_for=_temporary_validity(runtime))
        _record(
            session,
            request,
            principal,
            audit.AuditAction.PASSWORD_RESET,
            given.user.id,
            {"username": given.user.username, "sessions_ended": True, "api_tokens": "revoked"},
        )
        return given

    try:
        given = _write(runtime, reset)
    except Conflict as exc:
        action = audit.AuditAction.PASSWORD_RESET
        return _refused(request, runtime, principal, user_id, action, "password", exc)
    log.info("password reset user_id=%s by user_id=%s", user_id, principal.user_id)
    return _given_password(given, added=False)


def _temporary_validity(runtime: Runtime) -> timedelta:
    return timedelta(hours=runtime.settings.temporary_password_hours)


def _given_password(given: management.GivenPassword, *, added: bool) -> Response[Any]:
    return page(
        "pages/admin_user_password.html",
        status=201 if added else 200,
        headers=NO_STORE,
        account_id=given.user.id,
        username=given.user.username,
        display_name=given.user.display_name,
        password=given.password,
        expires_at=given.user.temporary_password_expires_at,
        added=added,
    )


def _change(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    user_id: int,
    changed: str,
    act: Callable[[Session], None],
) -> Response[Any]:
    try:
        _write(runtime, act)
    except (InvalidInput, Conflict) as exc:
        action = audit.AuditAction.USER_CHANGED
        return _refused(request, runtime, principal, user_id, action, changed, exc)
    log.info(
        "account changed user_id=%s change=%s by user_id=%s", user_id, changed, principal.user_id
    )
    return Redirect(f"{account_url(user_id)}?changed={changed}", status_code=303)


def _refused(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    user_id: int,
    action: audit.AuditAction,
    change: str,
    exc: PointcareError,
) -> Response[Any]:
    """The account page again, saying why; a rule that refused (not a typing slip) is audited."""
    if isinstance(exc, Conflict):
        event = audit.AuditEvent(
            action=action,
            actor=audit.actor_of(request, principal),
            outcome=audit.Outcome.REFUSED,
            objects=(f"user:{user_id}",),
            reason=exc.detail,
            details={"change": change},
        )
        audit.record_now(runtime.db, event)
    with runtime.db.session() as db:
        return _account(db, user_id, problem=exc)


def _write(runtime: Runtime, act: Callable[[Session], T]) -> T:
    with runtime.db.write() as session:
        return act(session)


def _record(
    session: Session,
    request: Request[Principal, Any, Any],
    principal: Principal,
    action: audit.AuditAction,
    user_id: int,
    details: dict[str, str | int | bool | None],
) -> None:
    event = audit.AuditEvent(
        action=action,
        actor=audit.actor_of(request, principal),
        objects=(f"user:{user_id}",),
        details=details,
    )
    audit.record(session, event)


USER_ROUTES = [
    users_page,
    new_account,
    managed_account_page,
    change_role,
    switch_account,
    reset_password,
]
