"""What a request may send, decided per route before its body is read.

- Upload routes (photos, documents, wristband frames: handlers with ``opt=UPLOAD_ROUTE``) take
  ``POINTCARE_MAX_UPLOAD_BYTES`` plus room for the form around the file, as multipart only (a
  URL-encoded form of that size would be parsed whole, and kept by the framework's cache);
  routes that take a video clip (``opt=CLIP_UPLOAD_ROUTE``) take ``POINTCARE_VIDEO_MAX_BYTES``
  the same way; the STOW-RS routes (``opt=STOW_ROUTE``) take the upload limit as a
  ``multipart/related`` of DICOM objects only (a sender with more splits them over requests, as
  Orthanc and dicomweb-client do by a chunk size).
- Every other route takes ``FORM_BYTES`` (forms, JSON); routes open without a sign-in (the
  sign-in form) take ``PUBLIC_BYTES``.

A body announced larger (``Content-Length``) is refused with 413 before a byte of it is read;
one sent without a length is counted as it arrives and refused the moment it passes the limit.
URL-encoded forms hold at most ``MAX_FORM_FIELDS`` fields and JSON nests at most
``MAX_JSON_DEPTH`` levels, checked as the bytes arrive: the framework's parsers, which run on
the event loop, only ever see small, flat bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from pointcare.errors import BadRequest, PayloadTooLarge

UPLOAD = "pointcare_upload"
UPLOAD_ROUTE: dict[str, Any] = {UPLOAD: "file"}
"""``opt`` of a route handler that takes a file (a photo, a PDF, a camera frame)."""
CLIP_UPLOAD_ROUTE: dict[str, Any] = {UPLOAD: "clip"}
"""``opt`` of a route handler that takes a video clip (larger than a photo)."""
STOW_ROUTE: dict[str, Any] = {UPLOAD: "objects"}
"""``opt`` of a route handler that takes DICOM objects as ``multipart/related`` (STOW-RS)."""

PUBLIC_BYTES = 8 * 1024
"""Routes open without a sign-in: a user name, a password, a CSRF token."""
FORM_BYTES = 64 * 1024
"""Every other route: forms and JSON (an export of 200 photos names them in about 15 KB)."""
MULTIPART_HEADROOM = 1024 * 1024
"""Room for the form fields around the file in an upload's multipart body."""
MAX_FORM_FIELDS = 1000
MAX_MULTIPART_PARTS = 100
MAX_JSON_DEPTH = 32

_URL_ENCODED = "application/x-www-form-urlencoded"
_JSON_TOKENS = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = b"[{", b"]}", ord('"'), ord("\\")


class BodyCheck(Protocol):
    def feed(self, chunk: bytes) -> None:
        """Raise ``BadRequest`` as soon as the bytes so far break the rule."""
        ...


class FormFields:
    """Counts the fields of a URL-encoded form as it arrives."""

    def __init__(self, limit: int = MAX_FORM_FIELDS) -> None:
        self.limit = limit
        self.fields = 1

    def feed(self, chunk: bytes) -> None:
        self.fields += chunk.count(b"&")
        if self.fields > self.limit:
            raise BadRequest(f"The form has more than {self.limit} fields.")


class JsonDepth:
    """Follows the nesting of a JSON text as it arrives (strings and escapes included), so that
    a decoder never recurses deeper than ``limit``."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escape_next = False

    def feed(self, chunk: bytes) -> None:
        escaped_at = 0 if self._escape_next else -1
        for match in _JSON_TOKENS.finditer(chunk):
            at = match.start()
            char = chunk[at]
            if self._in_string:
                if at == escaped_at:
                    continue
                if char == _BACKSLASH:
                    escaped_at = at + 1
                elif char == _QUOTE:
                    self._in_string = False
            elif char == _QUOTE:
                self._in_string = True
            elif char in _OPEN:
                self.depth += 1
                if self.depth > self.limit:
                    raise BadRequest(f"The JSON is nested deeper than {self.limit} levels.")
            elif char in _CLOSE:
                self.depth -= 1
        self._escape_next = self._in_string and escaped_at == len(chunk)


def body_check(content_type: str) -> BodyCheck | None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == _URL_ENCODED:
        return FormFields()
    if media_type == "application/json" or media_type.endswith("+json"):
        return JsonDepth()
    return None


@dataclass(frozen=True, slots=True)
class BodyLimits:
    upload_bytes: int
    """The largest file an upload route takes (``POINTCARE_MAX_UPLOAD_BYTES``)."""
    clip_bytes: int
    """The largest clip a clip route takes (``POINTCARE_VIDEO_MAX_BYTES``)."""

    def for_route(self, scope: Scope, content_type: str) -> int:
        handler = scope.get("route_handler")
        upload = handler.opt.get(UPLOAD) if handler is not None else None
        media_type = content_type.split(";", 1)[0].strip().lower()
        if upload == STOW_ROUTE[UPLOAD]:
            if media_type == "multipart/related":
                return self.upload_bytes + MULTIPART_HEADROOM
        elif upload and media_type == "multipart/form-data":
            file_bytes = (
                self.clip_bytes if upload == CLIP_UPLOAD_ROUTE[UPLOAD] else self.upload_bytes
            )
            return file_bytes + MULTIPART_HEADROOM
        return FORM_BYTES if scope.get("user") is not None else PUBLIC_BYTES


class RequestLimits:
    """ASGI middleware (after authentication, which tells public routes apart) enforcing
    ``BodyLimits`` and the form and JSON checks."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        limit = self.limits.for_route(scope, headers.get("content-type", ""))
        announced = headers.get("content-length")
        if announced is not None and (not announced.strip().isdigit() or int(announced) > limit):
            raise PayloadTooLarge(_too_large(limit))
        check = body_check(headers.get("content-type", ""))
        received = 0

        async def limited() -> ReceiveMessage:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLarge(_too_large(limit))
                if check is not None and chunk:
                    check.feed(chunk)
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"The request is larger than this address accepts ({size})."


def request_limits(upload_bytes: int, clip_bytes: int) -> DefineMiddleware:
    return DefineMiddleware(RequestLimits, limits=BodyLimits(upload_bytes, clip_bytes))
