"""What ``serve`` prints for phones: URLs in the right order and a QR code that reads back."""

from __future__ import annotations

import io
import ipaddress

from pointcare.serving.lan import lan_addresses, print_qr, server_subject, server_urls
from tests.support.terminal_qr import read_terminal_qr

EVERY = "0.0.0.0"  # noqa: S104 (a value to format, nothing binds it)
LAN = [ipaddress.ip_address("10.1.2.3"), ipaddress.ip_address("172.16.0.9")]


def test_every_interface_lists_the_lan_first_then_localhost() -> None:
    assert server_urls("https", EVERY, 8443, LAN) == [
        "https://10.1.2.3:8443/",
        "https://172.16.0.9:8443/",
        "https://localhost:8443/",
    ]
    assert server_urls("https", EVERY, 8443, []) == ["https://localhost:8443/"]


def test_a_named_address_is_the_only_url() -> None:
    assert server_urls("http", "127.0.0.1", 8000, LAN) == ["http://127.0.0.1:8000/"]
    assert server_urls("https", "fd00::5", 8443, LAN) == ["https://[fd00::5]:8443/"]
    assert server_urls("https", "photos.ward", 443, LAN) == ["https://photos.ward:443/"]


def test_the_certificate_covers_loopback_lan_and_the_listen_address() -> None:
    subject = server_subject("photos.ward", LAN)
    assert {"localhost", "photos.ward"} <= set(subject.names)
    assert {ipaddress.ip_address("127.0.0.1"), *LAN} <= set(subject.addresses)
    assert ipaddress.ip_address("10.9.9.9") in server_subject("10.9.9.9", []).addresses


def test_lan_addresses_are_never_loopback_or_link_local() -> None:
    for address in lan_addresses():
        assert not address.is_loopback
        assert not address.is_link_local


def test_the_qr_code_reads_back_as_the_url() -> None:
    out = io.StringIO()
    print_qr("https://10.1.2.3:8443/", out)
    assert read_terminal_qr(out.getvalue()) == "https://10.1.2.3:8443/"
