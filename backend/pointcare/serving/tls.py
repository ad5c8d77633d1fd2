"""A local certificate authority and a server certificate for ``pointcare serve --tls``.

Phones open the camera only on HTTPS. Without a hospital certificate, Pointcare makes its own:
a small CA (kept, installed once on each phone that should trust it) and a server certificate
signed by it for localhost, the host name and the machine's LAN addresses. When the addresses
change (another network, a new DHCP lease) only the server certificate is issued again, so
phones that trust the CA keep trusting the server. Private keys are written with mode 0600.

A phone that trusts the CA trusts whatever its key signs: the CA is therefore constrained
(X.509 NameConstraints, critical) to the names it serves and to private network addresses (a
public address it serves: that address alone), so that its key, if stolen, cannot vouch for
any site on the internet; and it lives two years, not ten. A CA made before these limits, or
that no longer covers the machine's names (a new host name), or nears its end, is made again:
the phones must then install the new ``ca.pem`` (``serve`` says so).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pointcare.errors import PointcareError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CA_DAYS = 730
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
"""Addresses a constrained CA may vouch for in full: a ward network, a DHCP lease, this machine."""
SERVER_DAYS = 397
"""Apple refuses TLS server certificates valid for more than 398 days."""
RENEW_BEFORE = dt.timedelta(days=30)
"""A server certificate this close to expiry is issued again."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The PEM files uvicorn serves with; ``ca`` is what phones install (None: hospital's own)."""

    cert: Path
    key: Path
    ca: Path | None = None
    issued: bool = False
    """A new server certificate was made on this start."""
    new_ca: bool = False
    """A new CA was made on this start: phones must install ``ca`` (again)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Who the server certificate is for: DNS names and IP addresses (the SAN entries)."""

    names: tuple[str, ...]
    addresses: tuple[IPAddress, ...]

    def san(self) -> x509.SubjectAlternativeName:
        entries: list[x509.GeneralName] = [x509.DNSName(name) for name in self.names]
        entries += [x509.IPAddress(address) for address in self.addresses]
        return x509.SubjectAlternativeName(entries)


def local_ca_files(data_dir: Path, subject: Subject, *, now: dt.datetime | None = None) -> TlsFiles:
    """The generated CA and server certificate in ``data_dir/tls``: made on first use, kept after,
    the server certificate issued again when it misses a name or address or nears expiry."""
    folder = data_dir / "tls"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    ca_cert_path, ca_key_path = folder / "ca.pem", folder / "ca-key.pem"
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    ca_cert = None
    if ca_cert_path.exists() and ca_key_path.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        ca_key = _load_key(ca_key_path)
    new_ca = ca_cert is None or not _ca_still_good(ca_cert, subject, now)
    if new_ca:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _make_ca(ca_key, subject, now)
        _write_private(ca_key_path, _key_pem(ca_key))
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    assert ca_cert is not None
    kept = not new_ca and cert_path.exists() and key_path.exists()
    if kept and _still_good(cert_path, ca_cert, subject, now):
        return TlsFiles(cert_path, key_path, ca_cert_path)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _make_server_cert(key, ca_key, ca_cert, subject, now)
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    return TlsFiles(cert_path, key_path, ca_cert_path, issued=True, new_ca=new_ca)


def own_files(cert: Path, key: Path) -> TlsFiles:
    """The hospital's certificate and key, checked now so that a mistake is told plainly."""
    for label, path in (("certificate", cert), ("key", key)):
        if not path.is_file():
            raise PointcareError(f"the TLS {label} file {path} does not exist")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise PointcareError(
            f"{cert} and {key} are not a PEM certificate and its private key ({exc})"
        ) from None
    return TlsFiles(cert, key)


def covered(cert: x509.Certificate) -> tuple[set[str], set[IPAddress]]:
    """The DNS names and IP addresses a certificate is valid for."""
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = {
        value
        for value in san.get_values_for_type(x509.IPAddress)
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
    }
    return set(san.get_values_for_type(x509.DNSName)), addresses


def _still_good(
    cert_path: Path, ca_cert: x509.Certificate, subject: Subject, now: dt.datetime
) -> bool:
    cert = x509.load_pem_x509_certificates(cert_path.read_bytes())[0]
    names, addresses = covered(cert)
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False  # signed by another CA (one made again, or put there by hand)
    return (
        set(subject.names) <= names
        and set(subject.addresses) <= addresses
        and cert.not_valid_after_utc - RENEW_BEFORE > now
    )


def permitted(subject: Subject) -> x509.NameConstraints:
    """What the CA may vouch for: the names served, the private network ranges (a laptop that
    moves from the ward's network to another keeps its phones' trust), and a public address
    served, alone."""
    public = [address for address in subject.addresses if not _private(address)]
    subtrees: list[x509.GeneralName] = [x509.DNSName(name) for name in subject.names]
    subtrees += [x509.IPAddress(network) for network in PRIVATE_NETWORKS]
    subtrees += [x509.IPAddress(ipaddress.ip_network(address)) for address in public]
    return x509.NameConstraints(permitted_subtrees=subtrees, excluded_subtrees=None)


def _private(address: IPAddress) -> bool:
    return any(address.version == net.version and address in net for net in PRIVATE_NETWORKS)


def _ca_still_good(ca_cert: x509.Certificate, subject: Subject, now: dt.datetime) -> bool:
    """A CA is kept while it is constrained, covers what is served, and is not near its end."""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return False  # made before the CA was constrained: a key that could vouch for any site
    allowed = constraints.permitted_subtrees or []
    names = {entry.value for entry in allowed if isinstance(entry, x509.DNSName)}
    networks = [
        entry.value
        for entry in allowed
        if isinstance(entry, x509.IPAddress)
        and isinstance(entry.value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    ]
    covers = set(subject.names) <= names and all(
        any(address in network for network in networks) for address in subject.addresses
    )
    return covers and ca_cert.not_valid_after_utc - RENEW_BEFORE > now


def _make_ca(
    key: ec.EllipticCurvePrivateKey, subject: Subject, now: dt.datetime
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pointcare"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Pointcare local CA ({subject.names[0]})"),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(permitted(subject), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _make_server_cert(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    subject: Subject,
    now: dt.datetime,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject.names[0])])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(subject.san(), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PointcareError(f"{path} is not the key Pointcare made; remove the tls folder")
    return key


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner alone, replacing any older one."""
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def subject_for(names: Iterable[str], addresses: Iterable[IPAddress]) -> Subject:
    """A subject with duplicates removed, order kept (the first name is the certificate's CN)."""
    return Subject(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(addresses)))
