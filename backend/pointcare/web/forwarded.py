"""Who is really calling, and how they reached us, behind a reverse proxy.

A proxy in front of Pointcare (nginx with TLS) connects on behalf of every client: the TCP peer
is the proxy, and the client's address, the scheme (https) and the host it asked for travel in
``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Host``. Anyone can send those
headers, so they are believed only from the addresses in ``POINTCARE_TRUSTED_PROXIES``
(nobody's by default).

``ForwardedHeaders`` (the first middleware) rewrites the ASGI scope once per request, so that
everything after it sees the real caller: ``request.client.host`` (sign-in limits, the audit
trail), ``request.url`` and ``request.base_url`` (scheme and host). Code that builds absolute
URLs calls ``origin(scope)``; code that needs the parts calls ``caller(scope)``:

    from pointcare.web import forwarded
    forwarded.origin(request.scope)          # "https://photos.hospital.org"
    forwarded.caller(request.scope)          # Caller(address, scheme, host, port)
    forwarded.resolve(scope, proxies)        # the same, from a scope not yet rewritten
    forwarded.proxied_origin(request.scope)  # the origin a trusted proxy vouched for, or None
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

Networks = tuple[IPv4Network | IPv6Network, ...]
DEFAULT_PORTS = {"http": 80, "https": 443}
_PROXIED_ORIGIN = "pointcare.proxied_origin"
"""Scope key of the origin a trusted proxy reported: only then is a Host header believed for
absolute links (``pointcare.web.origin``); a client that reaches us directly can send any."""
_HOST = re.compile(
    r"(?P<name>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?"
)


@dataclass(frozen=True, slots=True)
class Caller:
    address: str | None
    """The client's IP address (None when the server gave none)."""
    scheme: str
    """``http`` or ``https``, as the client reached the first proxy (or us)."""
    host: str
    """The host name (or ``[v6]`` address) the client asked for, without the port."""
    port: int

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, the port left out when it is the scheme's default."""
        default = DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str | None, proxies: Networks) -> bool:
    parsed = _address(address) if address else None
    return parsed is not None and any(parsed in network for network in proxies)


def _header(scope: Scope, name: bytes) -> str | None:
    """A header's values joined with commas (a header sent twice counts as one list)."""
    values = [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]
    return ",".join(values) if values else None


def _split_host(raw: str | None, scheme: str) -> tuple[str, int] | None:
    match = _HOST.fullmatch((raw or "").strip())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS.get(scheme, 80)
    return (match["name"].lower(), port) if 0 < port < 65536 else None


def _client(peer: str | None, chain: str | None, proxies: Networks) -> str | None:
    """The rightmost address of ``X-Forwarded-For`` that is not one of our proxies: proxies
    append the address they saw, so anything left of the first untrusted hop is the client's
    own claim. An unreadable entry ends the walk at the last proxy that vouched for it."""
    address = peer
    for hop in reversed([part.strip() for part in (chain or "").split(",") if part.strip()]):
        if not _trusted(address, proxies):
            break
        parsed = _address(hop)
        if parsed is None:
            break
        address = str(parsed)
    return address


def resolve(scope: Scope, proxies: Networks) -> Caller:
    """The caller of a request whose scope the middleware has not rewritten."""
    client = scope.get("client")
    peer = client[0] if client else None
    scheme = str(scope.get("scheme", "http"))
    server = scope.get("server")
    default_host = (str(server[0]), server[1] or 80) if server else ("localhost", 80)
    host = _split_host(_header(scope, b"host"), scheme) or default_host
    if not _trusted(peer, proxies):
        return Caller(peer, scheme, host[0], host[1])
    proto = (_header(scope, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
    if proto in DEFAULT_PORTS:
        scheme = proto
        host = _split_host(_header(scope, b"host"), scheme) or host
    forwarded_host = _header(scope, b"x-forwarded-host")
    if forwarded_host:
        host = _split_host(forwarded_host.split(",")[-1], scheme) or host
    address = _client(peer, _header(scope, b"x-forwarded-for"), proxies)
    return Caller(address, scheme, host[0], host[1])


def caller(scope: Scope) -> Caller:
    """The caller of a request the middleware has rewritten (any handler's ``request.scope``)."""
    return resolve(scope, ())


def proxied_origin(scope: Scope) -> str | None:
    """The origin a trusted proxy reported for this request, or None when none did."""
    found = scope.get(_PROXIED_ORIGIN)
    return str(found) if found else None


def origin(scope: Scope) -> str:
    """``scheme://host[:port]`` the client used: for absolute links when no public URL is set."""
    return caller(scope).origin


class ForwardedHeaders:
    """ASGI middleware: the scope's client, scheme and ``Host`` become the caller's."""

    def __init__(self, app: ASGIApp, proxies: Networks) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and self.proxies:
            found = resolve(scope, self.proxies)
            client = scope.get("client")
            rewritten: dict[str, Any] = {"scheme": found.scheme}
            if _trusted(client[0] if client else None, self.proxies):
                rewritten[_PROXIED_ORIGIN] = found.origin
            if found.address is not None:
                rewritten["client"] = (found.address, client[1] if client else 0)
            host = found.origin.split("://", 1)[1].encode("latin-1")
            rewritten["headers"] = [
                (key, value) for key, value in scope.get("headers", []) if key != b"host"
            ] + [(b"host", host)]
            scope.update(rewritten)  # type: ignore[typeddict-item]
        await self.app(scope, receive, send)


def forwarded_headers(proxies: Networks) -> DefineMiddleware:
    return DefineMiddleware(ForwardedHeaders, proxies=proxies)
