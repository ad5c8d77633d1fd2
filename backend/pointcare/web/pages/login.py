"""Sign in and sign out: a server-side session behind an HttpOnly cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from pointcare.auth.accounts import authenticate
from pointcare.auth.sessions import COOKIE_NAME, close_session, open_session
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page, safe_next

WRONG_CREDENTIALS = "User name or password is wrong. Check both and try again."
"""One message for every failure, so that it never tells which part was wrong."""


@dataclass
class SignInForm:
    username: str = ""
    password: str = ""
    next: str = ""


def session_cookie(
    runtime: NamedDependency[Runtime], value: str, *, max_age: int | None = None
) -> Cookie:
    # No max_age on sign-in: a browser-session cookie, gone when the browser closes; the server
    # ends the session on its own (idle and absolute limits) whatever the browser keeps.
    return Cookie(
        key=COOKIE_NAME,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        max_age=max_age,
    )


@get("/login", sync_to_thread=False, include_in_schema=False)
def sign_in_page(next: FromQuery[str | None] = None) -> Response[Any]:
    return page("pages/login.html", next=safe_next(next), username="", message="")


@post("/login", sync_to_thread=True, include_in_schema=False)
def sign_in(
    runtime: NamedDependency[Runtime],
    data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    target = safe_next(data.next)
    with runtime.db.session() as session:
        user = authenticate(session, data.username, data.password)
    if user is None:
        return page(
            "pages/login.html",
            status=401,
            next=target,
            username=data.username.strip(),
            message=WRONG_CREDENTIALS,
        )
    with runtime.db.write() as session:
        token = open_session(session, user, runtime.session_policy)
    return Redirect(target, status_code=303, cookies=[session_cookie(runtime, token)])


@post("/logout", sync_to_thread=True, include_in_schema=False)
def sign_out(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    token = request.cookies.get(COOKIE_NAME)
    if token:
        with runtime.db.write() as session:
            close_session(session, token)
    return Redirect("/login", status_code=303, cookies=[session_cookie(runtime, "", max_age=0)])
