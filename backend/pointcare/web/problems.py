"""The one place where errors become HTTP answers.

API and DICOMweb callers get problem JSON (RFC 9457); browsers get a readable page (or, for an
htmx request, the error fragment). No stack trace, no patient data, ever leaves this module.

The database out of reach or a full disk (``pointcare.faults``) is not a bug: 503 or 507 with
``Retry-After`` and a plain message, and one warning line per cause and minute in the log
instead of a traceback per request.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pointcare import faults
from pointcare.errors import Locked, PasswordChangeRequired, PointcareError
from pointcare.serving.log_throttle import LogThrottle, held_back

log = logging.getLogger(__name__)
FAULT_LOG_INTERVAL_SECONDS = 60.0
_fault_lines = LogThrottle(FAULT_LOG_INTERVAL_SECONDS)

PROBLEM_JSON = "application/problem+json"
UNLOCK_URL = "/bedside/unlock"
"""Where a locked session's password goes (``pointcare.web.pages.bedside``)."""
CHANGE_PASSWORD_URL = "/account/password"  # noqa: S105 (an address)
"""Where a user with a password an admin gave out is sent (``pointcare.web.pages.account``)."""
MACHINE_PREFIXES = ("/api/", "/dicomweb", "/schema")

_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    423: "Locked",
    413: "Too large",
    415: "Unsupported file type",
    416: "Range not satisfiable",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Try again shortly",
    507: "Out of storage space",
}


def wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "") or bool(
        request.headers.get("hx-request")
    )


def _describe(exc: Exception) -> tuple[int, str, str, dict[str, str]]:
    """(status, title, detail, field errors) for any exception."""
    if isinstance(exc, PointcareError):
        return exc.status_code, exc.title, exc.detail, exc.errors
    if isinstance(exc, ValidationException):
        errors: dict[str, str] = {}
        for item in exc.extra if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                errors[str(item.get("key", "request"))] = str(item.get("message", "invalid"))
        if errors:
            detail = "; ".join(f"{key}: {message}" for key, message in errors.items())
        else:
            detail = "The request could not be read."
        return 400, _TITLES[400], detail, errors
    if isinstance(exc, UnicodeDecodeError):  # a form's text field that is not UTF-8
        return 400, _TITLES[400], "The request could not be read: text must be UTF-8.", {}
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if exc.detail and status < 500 else _TITLES.get(status, "Error")
        return status, _TITLES.get(status, "Error"), detail, {}
    return (
        HTTP_500_INTERNAL_SERVER_ERROR,
        _TITLES[500],
        "An unexpected error occurred; it was logged.",
        {},
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    fault = faults.as_fault(exc)
    answered = fault or exc
    status, title, detail, errors = _describe(answered)
    if fault is not None:
        _log_fault(request, fault, exc)
    elif isinstance(exc, PointcareError) and status >= 500:
        _log_fault(request, exc, exc)  # a 5xx on purpose (a store not confirmed): said, no trace
    elif status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    if wants_html(request):
        if isinstance(exc, NotAuthorizedException) and request.method == "GET":
            return _to_sign_in(request)
        if isinstance(exc, Locked):
            return _lock_screen(request, exc)
        if isinstance(exc, PasswordChangeRequired):
            return _to_password_change(request)
        name = "partials/_error.html" if request.headers.get("hx-request") else "pages/error.html"
        return Template(
            template_name=name,
            context={"status": status, "title": title, "detail": detail, "errors": errors},
            status_code=status,
            headers=_headers(answered),
        )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    headers = _headers(answered)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pointcare"'
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _headers(exc: Exception) -> dict[str, str]:
    # An HTTP error's own headers belong to its answer (the size in a 416's Content-Range).
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    headers["Cache-Control"] = "no-store"
    if isinstance(exc, PointcareError) and exc.retry_after_seconds is not None:
        headers["Retry-After"] = str(exc.retry_after_seconds)
    return headers


def _log_fault(request: Request[Any, Any, Any], fault: PointcareError, exc: Exception) -> None:
    cause = faults.describe(exc)
    held = _fault_lines(f"{fault.status_code} {cause}")
    if held is not None:
        log.warning(
            "%d %s on %s %s: %s%s",
            fault.status_code,
            fault.title.lower(),
            request.method,
            request.url.path,
            cause,
            held_back(held),
        )


def _lock_screen(request: Request[Any, Any, Any], exc: Locked) -> Response[Any]:
    """A locked session's page: only the password form, which returns to the page asked for
    (an htmx request reloads the whole page, which then shows it)."""
    if request.headers.get("hx-request"):
        return Response(content=b"", status_code=exc.status_code, headers={"HX-Refresh": "true"})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return lock_page(here if request.method == "GET" else "/", exc)


def lock_page(next_page: str, exc: PointcareError) -> Template:
    """The lock page: the password form, returning to ``next_page``; ``exc`` says why it shows
    (locked, or a wrong password typed into it)."""
    return Template(
        template_name="pages/locked.html",
        context={
            "detail": exc.detail,
            "refused": not isinstance(exc, Locked),  # a wrong password, too many attempts
            "next": next_page,
            "unlock_url": UNLOCK_URL,
        },
        status_code=exc.status_code,
        headers={"Cache-Control": "no-store"},
    )


def _to_password_change(request: Request[Any, Any, Any]) -> Response[Any]:
    """Every page of a user who must change their password leads to the change of password
    (an htmx request navigates the whole page there)."""
    if request.headers.get("hx-request"):
        headers = {"HX-Redirect": CHANGE_PASSWORD_URL, "Cache-Control": "no-store"}
        return Response(content=b"", status_code=403, headers=headers)
    return Redirect(CHANGE_PASSWORD_URL, status_code=303, headers={"Cache-Control": "no-store"})


def _to_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    """Send a browser whose session ended back to sign-in, then to where it was.

    Only for GETs: a form sent after the session ended (a photo being sent) is answered in place,
    with a sign-in link, so that the page and the photo in it are not thrown away."""
    if request.headers.get("hx-request"):
        # htmx would follow a redirect and swap the sign-in page into a fragment: ask it to
        # navigate the whole page instead, back to the page the user was on.
        current = urlsplit(request.headers.get("hx-current-url", "/"))
        target = (current.path or "/") + (f"?{current.query}" if current.query else "")
        location = f"/login?next={quote(target, safe='')}"
        return Response(content=b"", status_code=401, headers={"HX-Redirect": location})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)


EXCEPTION_HANDLERS = {Exception: handle_exception}

__all__ = ["EXCEPTION_HANDLERS", "handle_exception", "wants_html"]
