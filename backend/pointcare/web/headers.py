"""Headers on every response: no caching of patient data, and a strict browser policy."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from pointcare.web.assets import ScriptSource


def content_security_policy(script: ScriptSource) -> str:
    script_src = "'self'" + (f" {script.origin}" if script.origin else "")
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
            "frame-ancestors 'none'",
        ]
    )


def security_headers_middleware(script: ScriptSource) -> type:
    policy = content_security_policy(script)

    class SecurityHeaders:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await self.app(scope, receive, send)
                return
            is_static = scope["path"].startswith("/static/")

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    headers.setdefault("Content-Security-Policy", policy)
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                    headers.setdefault("Referrer-Policy", "no-referrer")
                    headers.setdefault(
                        "Permissions-Policy", "camera=(self), microphone=(), geolocation=()"
                    )
                    if not is_static:
                        headers["Cache-Control"] = "no-store"
                await send(message)

            await self.app(scope, receive, send_with_headers)

    return SecurityHeaders
