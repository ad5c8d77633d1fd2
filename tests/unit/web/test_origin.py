"""The address written into absolute links: the public URL, else the address served on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pointcare.settings import Settings, proxy_networks
from pointcare.web.forwarded import ForwardedHeaders
from pointcare.web.origin import public_origin
from tests.support.loop import run_async


def connection(scheme: str, server: Any, public_url: str = "", host: str = "evil.example") -> Any:
    runtime = SimpleNamespace(settings=Settings(public_url=public_url))
    return SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)),
        scope={"scheme": scheme, "server": server, "headers": [(b"host", host.encode())]},
        headers={"host": host, "x-forwarded-host": "forged.example", "x-forwarded-proto": "https"},
    )


@pytest.mark.parametrize(
    ("scheme", "server", "expected"),
    [
        ("http", ("127.0.0.1", 8000), "http://127.0.0.1:8000"),
        ("http", ("10.1.2.3", 80), "http://10.1.2.3"),
        ("https", ("10.1.2.3", 443), "https://10.1.2.3"),
        ("https", ("10.1.2.3", 8443), "https://10.1.2.3:8443"),
        ("http", ("::1", 8000), "http://[::1]:8000"),
        ("http", ("/run/pointcare.sock", None), "http://localhost"),
        ("http", None, "http://localhost"),
    ],
)
def test_the_address_served_on_never_the_host_header(
    scheme: str, server: Any, expected: str
) -> None:
    assert public_origin(connection(scheme, server)) == expected


def test_the_public_url_wins() -> None:
    found = public_origin(connection("http", ("127.0.0.1", 8000), "https://photos.example.org/"))
    assert found == "https://photos.example.org"


def forwarded_scope(peer: str, proxies: str) -> dict[str, Any]:
    """The scope a handler sees once ``ForwardedHeaders`` has run on a request from ``peer``."""
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": (peer, 50000),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-host", b"photos.example.org"),
            (b"x-forwarded-for", b"10.9.8.7"),
        ],
    }
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = ForwardedHeaders(app, proxy_networks(proxies))
    run_async(middleware, scope, None, None)  # type: ignore[arg-type]
    return seen[0]


@pytest.mark.parametrize(
    ("peer", "proxies", "expected"),
    [
        ("127.0.0.1", "127.0.0.1", "https://photos.example.org"),
        ("203.0.113.5", "127.0.0.1", "http://127.0.0.1:8000"),  # not our proxy: not believed
        ("127.0.0.1", "", "http://127.0.0.1:8000"),  # no proxy trusted (the default)
    ],
)
def test_a_trusted_proxy_names_the_address_and_no_one_else_does(
    peer: str, proxies: str, expected: str
) -> None:
    runtime = SimpleNamespace(settings=Settings())
    found = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)),
        scope=forwarded_scope(peer, proxies),
    )
    assert public_origin(found) == expected  # type: ignore[arg-type]
