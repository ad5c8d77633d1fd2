"""Admin: deliveries to the PACS that are not done yet (pending, parked), each with its last
attempts (when, how they ended, why), and retrying them.

Plain form posts answered with a redirect (post/redirect/get): the page works without JS.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.archive import monitoring, outbox
from pointcare.auth.principal import Principal
from pointcare.db.types import utcnow
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page
from pointcare.web.security import ADMIN

log = logging.getLogger(__name__)

DELIVERIES = "/admin/deliveries"


@get(DELIVERIES, guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def deliveries_page(
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    retried: FromQuery[int | None] = None,
) -> Response[Any]:
    deliveries = outbox.open_deliveries(db, utcnow())
    return page(
        "pages/admin_deliveries.html",
        delivering=runtime.settings.delivers_to_pacs,
        counts=outbox.state_counts(db),
        deliveries=deliveries,
        history=monitoring.attempt_history(db, [d.delivery_id for d in deliveries]),
        retried=retried,
    )


@post(DELIVERIES + "/retry", guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def retry_all_parked(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> Redirect:
    return _retry(request, runtime, principal, None)


@post(
    DELIVERIES + "/{delivery_id:int}/retry",
    guards=[ADMIN],
    sync_to_thread=True,
    include_in_schema=False,
)
def retry_one_parked(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    delivery_id: FromPath[int],
) -> Redirect:
    return _retry(request, runtime, principal, delivery_id)


def _retry(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    delivery_id: int | None,
) -> Redirect:
    with runtime.db.write() as session:
        count = outbox.retry_parked(session, utcnow(), delivery_id)
        event = audit.AuditEvent(
            action=audit.AuditAction.DELIVERY_RETRIED,
            actor=audit.actor_of(request, principal),
            details={"delivery_id": delivery_id, "retried": count},
        )
        audit.record(session, event)
    log.info(
        "parked deliveries retried user_id=%s delivery_id=%s count=%d",
        principal.user_id,
        delivery_id if delivery_id is not None else "all",
        count,
    )
    return Redirect(f"{DELIVERIES}?retried={count}", status_code=303)
