"""The address written into absolute links: the public URL, else the address served on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pointcare.settings import Settings
from pointcare.web.origin import public_origin


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
