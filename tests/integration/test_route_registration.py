"""Every route handler is registered once: a handler registered twice runs wrapped twice."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.utils.sync import AsyncCallable


def test_no_sync_handler_is_wrapped_for_the_worker_thread_twice(app: Litestar) -> None:
    # Litestar 2.25 calls on_registration again for every handler already on a path when
    # another joins it; a sync GET beside a sync POST then answered with a coroutine (500).
    doubled = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if isinstance(handler, HTTPRouteHandler)
        and isinstance(handler.fn, AsyncCallable)
        and isinstance(handler.fn.func, AsyncCallable)
    ]
    assert not doubled
