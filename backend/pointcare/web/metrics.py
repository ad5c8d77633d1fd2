"""``GET /metrics``: Prometheus text format (``prometheus-client``), for operators only.

Who may read it: with ``POINTCARE_METRICS_TOKEN`` set, whoever sends it as a bearer token
(Prometheus's ``authorization`` setting), from anywhere; without it, only a client on this
machine (loopback) that did not come through a proxy. The figures name no patient, but they say
how busy the hospital is and where it stores things: not for the network at large. The reverse
proxy in ``infra/deploy`` does not pass ``/metrics`` on at all.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar import Request, Response, get
from prometheus_client import REGISTRY, generate_latest

from pointcare.errors import Forbidden, NotAuthenticated
from pointcare.runtime import Runtime
from pointcare.settings import Settings

TEXT_FORMAT = "text/plain; version=0.0.4"
"""The text exposition format every Prometheus reads (Litestar adds the UTF-8 charset)."""


@get("/metrics", sync_to_thread=True, include_in_schema=False)
def metrics(request: Request[Any, Any, Any], runtime: Runtime) -> Response[bytes]:
    _require_reader(request, runtime.settings)
    body = generate_latest(REGISTRY) + generate_latest(runtime.monitoring)
    return Response(body, media_type=TEXT_FORMAT, headers={"Cache-Control": "no-store"})


def _require_reader(request: Request[Any, Any, Any], settings: Settings) -> None:
    if settings.metrics_token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            raise NotAuthenticated("Send the metrics token: 'Authorization: Bearer <token>'.")
        return
    host = request.client.host if request.client else ""
    if not _loopback(host) or "x-forwarded-for" in request.headers:
        raise Forbidden(
            "Metrics are read from this machine only; set POINTCARE_METRICS_TOKEN to read them "
            "from elsewhere."
        )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
