"""How phones on the ward's network reach this server: its addresses, URLs and a QR code."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from typing import TextIO

import segno

from pointcare.serving.tls import IPAddress, Subject, subject_for

ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 (the values that mean "every interface")
PROBE_ADDRESS = ("192.0.2.1", 9)
"""TEST-NET-1 (RFC 5737): connecting a UDP socket to it sends nothing, but makes the OS pick the
interface of the default route, whose address is the one a phone on the same network uses."""


def lan_addresses() -> list[IPAddress]:
    """The machine's IPv4 addresses on its networks (no loopback, no link-local), best first."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(PROBE_ADDRESS)
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for *_rest, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(sockaddr[0]))
    addresses = [ipaddress.ip_address(raw) for raw in dict.fromkeys(found)]
    return [a for a in addresses if not (a.is_loopback or a.is_link_local or a.is_unspecified)]


def server_subject(host: str, lan: list[IPAddress]) -> Subject:
    """What the certificate must cover: the host name, localhost, loopback, the LAN addresses,
    and the address or name the server was told to listen on."""
    hostname = socket.gethostname()
    names = [hostname, f"{hostname}.local", "localhost"]
    addresses: list[IPAddress] = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    addresses += lan
    if host not in ANY_ADDRESS:
        try:
            addresses.append(ipaddress.ip_address(host))
        except ValueError:
            names.append(host)
    return subject_for(names, addresses)


def server_urls(scheme: str, host: str, port: int, lan: list[IPAddress]) -> list[str]:
    """The URLs to print, the one for phones (a LAN address) first when there is one."""
    if host in ANY_ADDRESS:
        hosts = [_url_host(address) for address in lan] + ["localhost"]
    else:
        hosts = [_url_host(host)]
    return [f"{scheme}://{name}:{port}/" for name in hosts]


def print_qr(url: str, out: TextIO) -> None:
    """A QR code of ``url`` drawn with block characters, for a phone's camera to open."""
    segno.make(url, error="m").terminal(out=out, compact=True, border=2)


def _url_host(host: str | IPAddress) -> str:
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        return str(host)
    return f"[{address}]" if address.version == 6 else str(address)
