"""Headers on every response: no caching of patient data, and a strict browser policy.

- Content-Security-Policy: scripts and styles from this origin only (no inline script), plus
  the one pinned htmx file when it comes from the CDN (its URL, not the CDN's origin, which
  serves any npm package), and ``frame-ancestors`` from ``POINTCARE_FRAME_ANCESTORS``.
- ``Referrer-Policy: no-referrer``: URLs hold MRNs; they must not leak to other sites.
- ``Permissions-Policy``: the camera for this origin only; no microphone, no location.
- ``Strict-Transport-Security`` when the request came over TLS, or the public URL is https.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import Message, Scope

from pointcare.settings import Settings, frame_ancestors_sources
from pointcare.web.assets import ScriptSource

BeforeSend = Callable[[Message, Scope], Awaitable[None]]
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "camera=(self), microphone=(), geolocation=()"
VIEWER_FILES = "/viewer/"
"""The OHIF viewer sets its own policy and keeps its build's files (web/viewer.py)."""


def content_security_policy(script: ScriptSource, frame_ancestors: str = "'none'") -> str:
    script_src = "'self'" + (f" {script.csp_source}" if script.csp_source else "")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors_sources(frame_ancestors)}",
        ]
    )


def security_headers(script: ScriptSource, settings: Settings | None = None) -> BeforeSend:
    """A ``before_send`` hook: it sees every answer, also those the exception handlers send
    for errors raised before a route (sign-in redirects, 401s), which a middleware misses."""
    frame_ancestors = settings.frame_ancestors if settings else "'none'"
    policy = content_security_policy(script, frame_ancestors)
    always_tls = bool(settings and settings.public_url.startswith("https://"))

    async def add_headers(message: Message, scope: Scope) -> None:
        if scope["type"] != ScopeType.HTTP or message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", PERMISSIONS)
        if always_tls or scope.get("scheme") == "https":
            headers.setdefault("Strict-Transport-Security", HSTS)
        if scope["path"].startswith(VIEWER_FILES):  # the viewer's handler decides what is kept
            headers.setdefault("Cache-Control", "no-store")
        elif not scope["path"].startswith("/static/"):
            headers["Cache-Control"] = "no-store"

    return add_headers
