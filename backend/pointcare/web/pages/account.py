"""The signed-in user's own account: who they are, and "sign out everywhere"."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect

from pointcare import audit
from pointcare.auth.accounts import revoke_api_tokens
from pointcare.auth.principal import Principal
from pointcare.auth.sessions import close_all_sessions, live_session_count
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page
from pointcare.web.pages.login import session_cookie

ACCOUNT = "/account"


@get(ACCOUNT, sync_to_thread=True, include_in_schema=False)
def account_page(
    runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> Response[Any]:
    with runtime.db.session() as session:
        sessions = live_session_count(session, principal.user_id)
    return page("pages/account.html", sessions=sessions)


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
