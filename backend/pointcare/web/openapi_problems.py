"""The OpenAPI document lists the errors every API and DICOMweb route answers: problem JSON.

Errors never come from a route itself but from ``web/problems.py``, for any route, as
``application/problem+json`` (RFC 9457). Litestar documents only a 400 of its own shape; this
module replaces that with what the server really sends, on every route the document shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from pointcare.web.problems import PROBLEM_JSON


@dataclass
class Problem:
    """An error (RFC 9457): ``detail`` says what went wrong and what to do about it."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, str] | None = None
    """Field name → message, when the request's fields were refused."""


ERRORS = {
    400: "The request could not be read (a malformed parameter or body).",
    401: "No valid credential: send 'Authorization: Bearer <token>'.",
    403: "The caller's role, or the patient's protection, does not allow this.",
    404: "No such patient, study, series or instance.",
    406: "The Accept header asks for a media type this route cannot answer with.",
    413: "The request is larger than this server accepts.",
    415: "The body is not of a supported type.",
    422: "The request was read but its content was refused (the errors say which fields).",
    423: "The browser session's screen is locked: the user's password unlocks it.",
    429: "Too many requests: try again later (see Retry-After).",
    503: "The database cannot be reached right now; nothing was done: try again (Retry-After).",
    507: "A disk of the server is full; nothing was stored.",
}


def problem_responses() -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=description,
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status, description in ERRORS.items()
    }


def document_problems(app: Litestar) -> None:
    """Give every route in the OpenAPI document the problem responses (its own win)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.include_in_schema is False:
                continue
            handler.responses = {**problem_responses(), **(handler.responses or {})}
