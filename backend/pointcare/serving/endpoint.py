"""Where ``pointcare serve`` listens (HTTP or HTTPS) and what it tells whoever started it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pointcare.errors import PointcareError
from pointcare.serving.lan import lan_addresses, print_qr, server_subject, server_urls
from pointcare.serving.tls import TlsFiles, local_ca_files, own_files

LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (phones on the ward's network must reach it)


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    urls: tuple[str, ...]
    tls: TlsFiles | None = None

    def uvicorn_options(self) -> dict[str, Any]:
        if self.tls is None:
            return {}
        return {"ssl_certfile": str(self.tls.cert), "ssl_keyfile": str(self.tls.key)}

    def announce(self, institution: str, out: TextIO) -> None:
        """The URLs; with TLS a QR code of the first (the LAN one when there is one) and where
        the certificate to install on phones is."""
        print(f"Pointcare for {institution}: {self.urls[0]}", file=out)
        for url in self.urls[1:]:
            print(f"  also: {url}", file=out)
        if self.tls is None:
            out.flush()
            return
        print(f"Open {self.urls[0]} on a phone on the same network, or scan:", file=out)
        print_qr(self.urls[0], out)
        if self.tls.new_ca:
            print(
                f"TLS: new server certificate from a new local CA; install {self.tls.ca} on "
                "phones to trust it, and remove any older 'Pointcare local CA' from them (see "
                "README, 'Phones on the ward').",
                file=out,
            )
        elif self.tls.ca is not None:
            state = "new server certificate" if self.tls.issued else "certificate"
            print(
                f"TLS: {state} from Pointcare's own CA; install {self.tls.ca} on phones to "
                "trust it (see docs/operations.md, 'Phones on the ward').",
                file=out,
            )
        out.flush()


def endpoint(
    data_dir: Path,
    *,
    host: str | None,
    port: int,
    tls: bool,
    cert: Path | None = None,
    key: Path | None = None,
) -> Endpoint:
    """Plain HTTP on loopback by default. With ``tls`` (or a certificate): HTTPS, on every
    interface unless ``host`` says otherwise, with the hospital's certificate or one made here."""
    if (cert is None) != (key is None):
        raise PointcareError("--tls-cert and --tls-key go together")
    if cert is None and not tls:
        listen = host or LOOPBACK
        return Endpoint(listen, port, tuple(server_urls("http", listen, port, [])))
    listen = host or EVERY_INTERFACE
    lan = lan_addresses()
    files = (
        own_files(cert, key)
        if cert is not None and key is not None
        else local_ca_files(data_dir, server_subject(listen, lan))
    )
    return Endpoint(listen, port, tuple(server_urls("https", listen, port, lan)), files)
