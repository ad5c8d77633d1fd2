"""``GET /launch?token=JWT``: the EHR opens Pointcare signed in, in its patient's context.

A thin controller: the launch itself (verify, use once, user, bound session, audit) is
``pointcare.launch.service``. It lands on the bedside confirmation card (capture: the nurse
still confirms the patient at the bedside) or on the patient's photos (review). A refused
launch gets a page that says why and what to do, never the token.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect

from pointcare.auth.sessions import COOKIE_NAME
from pointcare.launch.claims import LaunchView
from pointcare.launch.errors import LaunchRefused
from pointcare.launch.service import Caller, LaunchOutcome, complete_launch
from pointcare.runtime import Runtime
from pointcare.web.pages.bedside import confirm_url
from pointcare.web.pages.common import PatientUrls, page
from pointcare.web.pages.login import session_cookie

LAUNCH_PATH = "/launch"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
"""The URL held a token: nothing of this answer is cached, and no Referer carries it on."""


@get(LAUNCH_PATH, include_in_schema=False)
async def launch(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    token: FromQuery[str | None] = None,
) -> Response[Any]:
    client = request.client
    caller = Caller(
        client_address=client.host if client is not None else None,
        user_agent=request.headers.get("user-agent") or None,
        previous_cookie=request.cookies.get(COOKIE_NAME),
    )
    # The issuer's keys first, on the event loop (a slow JWKS holds no thread), then the
    # verification and the session, which use the database, in a worker thread.
    await runtime.launch.fetch_keys(token)
    try:
        outcome = await anyio.to_thread.run_sync(
            complete_launch, runtime.db, runtime.launch, token, runtime.session_policy, caller
        )
    except LaunchRefused as exc:
        return page(
            "pages/launch_refused.html",
            status=exc.status_code,
            headers=NO_STORE,
            title=exc.title,
            detail=exc.detail,
            reason=exc.reason,
        )
    return Redirect(
        landing_url(outcome),
        status_code=303,
        headers=NO_STORE,
        cookies=[session_cookie(runtime, outcome.cookie)],
    )


def landing_url(outcome: LaunchOutcome) -> str:
    if outcome.view is LaunchView.CAPTURE:
        return confirm_url(outcome.patient_mrn, outcome.patient_issuer)
    return PatientUrls(outcome.patient_mrn, outcome.patient_issuer).review
