"""Liveness for load balancers and the test harness: no authentication, no patient data."""

from __future__ import annotations

from litestar import get
from sqlalchemy import text

from pointcare.runtime import Runtime


# ``security=[{}]``: the OpenAPI document says what is true, that no credential is needed here.
@get("/healthz", sync_to_thread=True, include_in_schema=True, tags=["health"], security=[{}])
def healthz(runtime: Runtime) -> dict[str, str]:
    """Answers 200 when the database answers."""
    with runtime.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok"}
