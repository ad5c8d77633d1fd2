"""Forwarded headers are believed only from a trusted proxy, and only as far as the proxies go."""

from __future__ import annotations

from typing import Any

import pytest

from pointcare.settings import proxy_networks
from pointcare.web.forwarded import Caller, resolve

PROXIES = proxy_networks("10.0.0.2, 10.1.0.0/16, fd00::/8")


def scope(peer: str, **headers: str) -> dict[str, Any]:
    raw = [(b"host", b"pointcare.internal:8000")]
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {
        "type": "http",
        "scheme": "http",
        "client": (peer, 51000),
        "server": ("10.0.0.11", 8000),
        "headers": raw,
    }


def test_a_trusted_proxy_names_the_client_scheme_and_host() -> None:
    found = resolve(
        scope(
            "10.0.0.2",
            x_forwarded_for="192.168.7.21",
            x_forwarded_proto="https",
            x_forwarded_host="photos.hospital.example",
        ),
        PROXIES,
    )
    assert found == Caller("192.168.7.21", "https", "photos.hospital.example", 443)
    assert found.origin == "https://photos.hospital.example"


def test_anyone_else_is_taken_at_their_tcp_address() -> None:
    found = resolve(
        scope(
            "192.168.7.21",
            x_forwarded_for="10.9.9.9",
            x_forwarded_proto="https",
            x_forwarded_host="evil.example",
        ),
        PROXIES,
    )
    assert found == Caller("192.168.7.21", "http", "pointcare.internal", 8000)
    assert resolve(scope("10.0.0.2", x_forwarded_for="192.168.7.21"), ()).address == "10.0.0.2"


@pytest.mark.parametrize(
    ("chain", "client"),
    [
        ("192.168.7.21", "192.168.7.21"),
        ("6.6.6.6, 192.168.7.21", "192.168.7.21"),  # the client's own claim is left of its hop
        ("192.168.7.21, 10.1.4.4", "192.168.7.21"),  # two proxies of ours
        ("192.168.7.21, fd00::7", "192.168.7.21"),
        ("not-an-address, 10.1.4.4", "10.1.4.4"),  # garbage ends the walk at the last proxy
        ("", "10.0.0.2"),
    ],
)
def test_the_client_is_the_first_hop_no_proxy_of_ours_vouches_past(chain: str, client: str) -> None:
    assert resolve(scope("10.0.0.2", x_forwarded_for=chain), PROXIES).address == client


def test_a_header_sent_twice_is_one_list() -> None:
    found = resolve(
        {
            **scope("10.0.0.2"),
            "headers": [
                (b"host", b"x"),
                (b"x-forwarded-for", b"6.6.6.6"),
                (b"x-forwarded-for", b"192.168.7.21"),
            ],
        },
        PROXIES,
    )
    assert found.address == "192.168.7.21"


@pytest.mark.parametrize("host", ["evil.example/path", "a b", "x:99999", "[zz]"])
def test_a_malformed_forwarded_host_is_ignored(host: str) -> None:
    found = resolve(scope("10.0.0.2", x_forwarded_host=host, x_forwarded_proto="https"), PROXIES)
    assert (found.scheme, found.host) == ("https", "pointcare.internal")


def test_bad_proxy_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="not an address"):
        proxy_networks("10.0.0.2, nginx.internal")
