"""Health for operators and load balancers: no authentication, no patient data, no paths.

``GET /healthz`` (liveness) answers 200 while the process serves requests, and says whether
the database answers and how much room the disks have: a node that cannot reach its database
is not fixed by restarting it. ``GET /healthz/ready`` (readiness) answers 503 when this node
should get no traffic: its database is out of reach, or a disk it writes to has less than
``POINTCARE_MIN_FREE_MEGABYTES`` free.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from pointcare.runtime import Runtime
from pointcare.serving.health import check_database, disk_space


def _report(runtime: Runtime) -> tuple[bool, dict[str, Any]]:
    database = check_database(runtime.db)
    minimum = runtime.settings.min_free_megabytes
    disks = disk_space(runtime.settings)
    low = [disk.name for disk in disks if disk.free_megabytes < minimum]
    ready = database.reachable and not low
    problems = ([] if database.reachable else ["database unreachable"]) + [
        f"{name}: less than {minimum} MB free" for name in low
    ]
    return ready, {
        "status": "ok" if ready else "degraded",
        "problems": problems,
        "database": {"reachable": database.reachable, "seconds": round(database.seconds, 4)},
        "disks": {
            disk.name: {"free_bytes": disk.free_bytes, "total_bytes": disk.total_bytes}
            for disk in disks
        },
    }


# ``security=[{}]``: the OpenAPI document says what is true, that no credential is needed here.
@get("/healthz", sync_to_thread=True, include_in_schema=True, tags=["health"], security=[{}])
def healthz(runtime: Runtime) -> Response[dict[str, Any]]:
    """Liveness, with the database's reachability and each disk's free space (always 200)."""
    _ready, report = _report(runtime)
    return Response(report, headers={"Cache-Control": "no-store"})


@get("/healthz/ready", sync_to_thread=True, include_in_schema=True, tags=["health"], security=[{}])
def ready(runtime: Runtime) -> Response[dict[str, Any]]:
    """Readiness: 200 when the database answers and every disk has room, else 503."""
    is_ready, report = _report(runtime)
    return Response(report, status_code=200 if is_ready else 503, headers=_no_store(is_ready))


def _no_store(is_ready: bool) -> dict[str, str]:
    headers = {"Cache-Control": "no-store"}
    if not is_ready:
        headers["Retry-After"] = "5"
    return headers
