"""The address clients reach Pointcare at, for absolute links (DICOMweb Retrieve URLs, Bulk Data
URIs, Warning headers): never taken from a raw Host header, which any client can set.

In order:

1. ``POINTCARE_PUBLIC_URL``, when set: the address the hospital gives Pointcare;
2. what a trusted reverse proxy reports (``POINTCARE_TRUSTED_PROXIES``: ``web.forwarded``
   records it when it rewrites the request);
3. the address this server serves on: the request's scheme, and the local address and port of
   the connection (the ASGI ``server``), port included unless it is the scheme's default.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from pointcare.runtime import Runtime
from pointcare.web.forwarded import DEFAULT_PORTS, proxied_origin

Connection = ASGIConnection[Any, Any, Any, Any]


def public_origin(connection: Connection) -> str:
    """``scheme://host[:port]`` of this Pointcare as the client should address it."""
    runtime: Runtime = connection.app.state.runtime
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    return forwarded_origin(connection) or served_origin(connection)


def forwarded_origin(connection: Connection) -> str | None:
    """The origin a trusted reverse proxy reported for this request, or None (no proxy is
    trusted by default, so a client's own forwarded headers are never believed)."""
    return proxied_origin(connection.scope)


def served_origin(connection: Connection) -> str:
    """The scheme and the local address the connection came in on."""
    scheme = connection.scope.get("scheme", "http")
    server = connection.scope.get("server")
    if not server or server[1] is None:  # a Unix socket: only a proxy can name the address
        return f"{scheme}://localhost"
    host, port = server
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"
