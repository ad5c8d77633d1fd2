"""Building the actor of an audit event from an HTTP request and the signed-in user."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from pointcare.audit.events import Actor, SystemRole
from pointcare.auth.principal import Principal


def actor_of(
    connection: ASGIConnection[Any, Any, Any, Any],
    principal: Principal | None = None,
    *,
    username: str | None = None,
) -> Actor:
    """The caller: the signed-in ``principal`` (or anonymous), its address and user agent.

    ``username`` names an anonymous caller by the name it tried (a failed sign-in).

    The address is the client's: the TCP peer, or behind a trusted reverse proxy the address it
    forwarded (``pointcare.web.forwarded`` has rewritten the request by then).
    """
    client = connection.client
    address = client.host if client is not None else None
    agent = connection.headers.get("user-agent") or None
    if principal is None:
        return Actor(
            user_id=None,
            username=(username or "").strip()[:64] or None,
            role=SystemRole.ANONYMOUS.value,
            client_address=address,
            user_agent=agent,
        )
    return Actor.of(principal, client_address=address, user_agent=agent)
