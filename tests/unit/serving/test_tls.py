"""The local CA and server certificate of ``serve --tls``: names, reuse, renewal, key files, and
the limits of what the CA can vouch for."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from pointcare.errors import PointcareError
from pointcare.serving.tls import (
    SERVER_DAYS,
    TlsFiles,
    covered,
    local_ca_files,
    own_files,
    subject_for,
)

LAN = ipaddress.ip_address("10.20.30.40")
SUBJECT = subject_for(
    ["ward-pc", "ward-pc.local", "localhost"],
    [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"), LAN],
)
NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


def chain(files: TlsFiles) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(files.cert.read_bytes())


def verify(files: TlsFiles, name: x509.GeneralName, *, at: dt.datetime = NOW) -> None:
    assert files.ca is not None
    root = x509.load_pem_x509_certificate(files.ca.read_bytes())
    verifier = PolicyBuilder().store(Store([root])).time(at).build_server_verifier(name)
    verifier.verify(chain(files)[0], [])


def test_first_use_makes_a_ca_and_a_server_certificate_for_every_name(tmp_path: Path) -> None:
    files = local_ca_files(tmp_path, SUBJECT, now=NOW)
    assert files.issued
    assert files.cert == tmp_path / "tls" / "cert.pem"
    assert files.key == tmp_path / "tls" / "key.pem"
    names, addresses = covered(chain(files)[0])
    assert names == {"ward-pc", "ward-pc.local", "localhost"}
    assert addresses == set(SUBJECT.addresses)
    for name in (x509.DNSName("localhost"), x509.DNSName("ward-pc"), x509.IPAddress(LAN)):
        verify(files, name)  # signed by the CA a phone installs, for what it will type
    with pytest.raises(VerificationError):
        verify(files, x509.DNSName("elsewhere.example"))
    leaf = chain(files)[0]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=398)
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_private_keys_are_for_the_owner_only(tmp_path: Path) -> None:
    files = local_ca_files(tmp_path, SUBJECT, now=NOW)
    for key in (files.key, tmp_path / "tls" / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700


def test_the_certificate_is_reused_while_it_covers_the_machine(tmp_path: Path) -> None:
    first = local_ca_files(tmp_path, SUBJECT, now=NOW)
    cert, key = first.cert.read_bytes(), first.key.read_bytes()
    again = local_ca_files(tmp_path, SUBJECT, now=NOW + dt.timedelta(days=100))
    assert not again.issued
    assert (again.cert.read_bytes(), again.key.read_bytes()) == (cert, key)
    fewer = subject_for(["localhost"], [ipaddress.ip_address("127.0.0.1")])
    assert not local_ca_files(tmp_path, fewer, now=NOW).issued


def test_a_new_address_gets_a_new_server_certificate_from_the_same_ca(tmp_path: Path) -> None:
    first = local_ca_files(tmp_path, SUBJECT, now=NOW)
    assert first.ca is not None
    ca = first.ca.read_bytes()
    moved = ipaddress.ip_address("192.168.7.9")
    other = subject_for(SUBJECT.names, [*SUBJECT.addresses, moved])
    second = local_ca_files(tmp_path, other, now=NOW)
    assert second.issued
    assert second.ca is not None and second.ca.read_bytes() == ca  # phones keep trusting it
    verify(second, x509.IPAddress(moved))


def test_a_certificate_near_expiry_is_issued_again(tmp_path: Path) -> None:
    local_ca_files(tmp_path, SUBJECT, now=NOW)
    late = NOW + dt.timedelta(days=SERVER_DAYS - 10)
    renewed = local_ca_files(tmp_path, SUBJECT, now=late)
    assert renewed.issued
    verify(renewed, x509.DNSName("localhost"), at=late + dt.timedelta(days=100))


def test_the_hospitals_own_certificate_is_checked(tmp_path: Path) -> None:
    made = local_ca_files(tmp_path / "a", SUBJECT, now=NOW)
    other = local_ca_files(tmp_path / "b", SUBJECT, now=NOW)
    assert own_files(made.cert, made.key) == TlsFiles(made.cert, made.key)
    with pytest.raises(PointcareError, match="does not exist"):
        own_files(tmp_path / "missing.pem", made.key)
    with pytest.raises(PointcareError, match="not a PEM certificate and its private key"):
        own_files(made.cert, other.key)  # the key of another certificate
    with pytest.raises(PointcareError, match="not a PEM certificate"):
        own_files(made.key, made.key)


def forged_leaf(files: TlsFiles, name: str) -> x509.Certificate:
    """What a thief of ``ca-key.pem`` could sign: a certificate for a site of their choosing."""
    ca_key = serialization.load_pem_private_key(
        (files.cert.parent / "ca-key.pem").read_bytes(), password=None
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey) and files.ca is not None
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(minutes=5))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def test_the_ca_can_vouch_for_the_ward_machine_and_no_other_site(tmp_path: Path) -> None:
    files = local_ca_files(tmp_path, SUBJECT, now=NOW)
    assert files.ca is not None and files.new_ca
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert ca.not_valid_after_utc - ca.not_valid_before_utc <= dt.timedelta(days=731)
    verifier = PolicyBuilder().store(Store([ca])).time(NOW)
    for site in ("www.bank.example", "accounts.google.com"):
        with pytest.raises(VerificationError):
            verifier.build_server_verifier(x509.DNSName(site)).verify(forged_leaf(files, site), [])
    own = forged_leaf(files, "ward-pc")  # the same key, for the name it serves: fine
    verifier.build_server_verifier(x509.DNSName("ward-pc")).verify(own, [])


def test_a_ca_made_without_limits_is_replaced_and_phones_are_told(tmp_path: Path) -> None:
    local_ca_files(tmp_path, SUBJECT, now=NOW)
    folder = tmp_path / "tls"
    old_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pointcare local CA (old)")])
    unconstrained = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(old_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(old_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(unconstrained.public_bytes(serialization.Encoding.PEM))
    (folder / "ca-key.pem").write_bytes(
        old_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    replaced = local_ca_files(tmp_path, SUBJECT, now=NOW)
    assert replaced.new_ca and replaced.issued
    assert replaced.ca is not None
    ca = x509.load_pem_x509_certificate(replaced.ca.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.NameConstraints).critical
    verify(replaced, x509.DNSName("ward-pc"))
    renamed = subject_for(["ward-pc-2", "localhost"], SUBJECT.addresses)
    assert local_ca_files(tmp_path, renamed, now=NOW).new_ca  # a name the CA may not vouch for
