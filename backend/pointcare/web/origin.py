"""The address clients reach Pointcare at, for absolute links (DICOMweb Retrieve URLs, Bulk Data
URIs, Warning headers): never taken from a raw Host header, which any client can set.

In order:

1. ``POINTCARE_PUBLIC_URL``, when set: the address the hospital gives Pointcare;
2. what a trusted reverse proxy reports in its forwarded headers (``forwarded_origin``);
3. the address this server serves on: the request's scheme, and the local address and port of
   the connection (the ASGI ``server``), port included unless it is the scheme's default.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from pointcare.runtime import Runtime

Connection = ASGIConnection[Any, Any, Any, Any]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def public_origin(connection: Connection) -> str:
    """``scheme://host[:port]`` of this Pointcare as the client should address it."""
    runtime: Runtime = connection.app.state.runtime
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    return forwarded_origin(connection) or served_origin(connection)


def forwarded_origin(connection: Connection) -> str | None:
    """The origin a trusted reverse proxy reports for this request, or None.

    The plug for trusted proxies: no proxy is trusted until Pointcare is told which ones are
    (``POINTCARE_TRUSTED_PROXIES``, with the module that decides a request's client), so
    forwarded headers are never believed here.
    """
    return None


def served_origin(connection: Connection) -> str:
    """The scheme and the local address the connection came in on."""
    scheme = connection.scope.get("scheme", "http")
    server = connection.scope.get("server")
    if not server or server[1] is None:  # a Unix socket: only a proxy can name the address
        return f"{scheme}://localhost"
    host, port = server
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"
