"""Trusted issuers: who may open Pointcare in a patient's context, with which algorithms and keys.

An issuer is configured with exactly one kind of verification key, and its algorithms must all
belong to that kind: an HS256 shared secret, an RS256/ES256 public key (PEM), or a JWKS URL. This
is what rules out algorithm confusion: a PEM public key is never handed to HMAC as a secret, and
``none`` is never accepted. The file (``POINTCARE_LAUNCH_ISSUERS_FILE``) is TOML, or JSON when its
name ends in ``.json``::

    [[issuer]]
    id = "https://ehr.hospital.org"        # the token's "iss"
    algorithms = ["RS256"]
    public_key_file = "/etc/pointcare/ehr-launch.pem"
    # or: jwks_url = "https://ehr.hospital.org/.well-known/jwks.json"
    # or (HS256): secret = "..."  /  secret_file = "/etc/pointcare/ehr-launch.secret"
    roles = { "RN" = "photographer", "MD" = "clinician" }   # optional, extends the defaults
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pointcare.auth.roles import Role
from pointcare.launch.errors import LaunchConfigError


class KeyKind(StrEnum):
    SECRET = "secret"  # noqa: S105 (the kind of key, not a key)
    """HS256: a secret shared with the EHR."""
    PUBLIC_KEY = "public_key"
    """RS256/ES256: the EHR's public key, as PEM."""
    JWKS = "jwks"
    """RS256/ES256: the EHR's JSON Web Key Set, fetched and cached by key id (rotation)."""


ALGORITHMS_BY_KIND: dict[KeyKind, frozenset[str]] = {
    KeyKind.SECRET: frozenset({"HS256"}),
    KeyKind.PUBLIC_KEY: frozenset({"RS256", "ES256"}),
    KeyKind.JWKS: frozenset({"RS256", "ES256"}),
}
MIN_SECRET_BYTES = 32
"""RFC 7518 3.2: an HS256 key must be at least as long as the hash (256 bits)."""

DEFAULT_ROLES: Mapping[str, Role] = {
    "photographer": Role.PHOTOGRAPHER,
    "nurse": Role.PHOTOGRAPHER,
    "clinician": Role.CLINICIAN,
    "physician": Role.CLINICIAN,
    "doctor": Role.CLINICIAN,
}
"""EHR role -> Pointcare role, matched ignoring case. Anything else is refused; no EHR role ever
becomes an administrator (accounts and settings stay with local accounts)."""


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    id: str
    algorithms: frozenset[str]
    key_kind: KeyKind
    secret: bytes = field(default=b"", repr=False)
    public_key_pem: bytes = field(default=b"", repr=False)
    jwks_url: str = ""
    signing_key_file: Path | None = None
    """A private key (PEM) or, for HS256, nothing needed: lets ``pointcare launch-url`` mint
    links for demos and tests. Production EHRs keep their private keys to themselves."""
    roles: Mapping[str, Role] = field(default_factory=lambda: dict(DEFAULT_ROLES))

    @property
    def can_mint(self) -> bool:
        """Pointcare holds a key that signs for this issuer (a shared secret or a private key)."""
        return self.key_kind is KeyKind.SECRET or self.signing_key_file is not None

    def role_for(self, ehr_role: str) -> Role | None:
        return self.roles.get(ehr_role.strip().lower())


def issuer_from_mapping(raw: Mapping[str, Any], *, base_dir: Path) -> IssuerConfig:
    """One issuer from its TOML/JSON table; ``LaunchConfigError`` naming what is wrong."""
    issuer_id = raw.get("id")
    if not isinstance(issuer_id, str) or not issuer_id.strip():
        raise LaunchConfigError("every issuer needs an 'id' (the tokens' 'iss')")
    where = f"issuer {issuer_id!r}"
    known = {
        "id",
        "algorithms",
        "secret",
        "secret_file",
        "public_key_file",
        "jwks_url",
        "signing_key_file",
        "roles",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise LaunchConfigError(f"{where}: unknown option(s) {', '.join(unknown)}")
    secret = _secret(raw, base_dir, where)
    public_pem = _read(raw.get("public_key_file"), base_dir, where, "public_key_file")
    jwks_url = raw.get("jwks_url") or ""
    given = [kind for kind, value in _kinds(secret, public_pem, jwks_url) if value]
    if len(given) != 1:
        raise LaunchConfigError(
            f"{where}: give exactly one of secret / secret_file (HS256), public_key_file or "
            "jwks_url (RS256/ES256)"
        )
    kind = given[0]
    algorithms = _algorithms(raw.get("algorithms"), kind, where)
    if kind is KeyKind.SECRET and len(secret) < MIN_SECRET_BYTES:
        raise LaunchConfigError(f"{where}: the secret must have at least {MIN_SECRET_BYTES} bytes")
    if kind is KeyKind.PUBLIC_KEY and b"PRIVATE KEY" in public_pem:
        raise LaunchConfigError(f"{where}: public_key_file holds a private key")
    if kind is KeyKind.JWKS and not fetchable_jwks_url(str(jwks_url)):
        raise LaunchConfigError(
            f"{where}: jwks_url must be an https:// URL (plain http:// only to this machine, "
            "for tests): keys fetched in the clear could be swapped on the way"
        )
    signing = raw.get("signing_key_file")
    return IssuerConfig(
        id=issuer_id.strip(),
        algorithms=algorithms,
        key_kind=kind,
        secret=secret,
        public_key_pem=public_pem,
        jwks_url=str(jwks_url),
        signing_key_file=_path(signing, base_dir) if signing else None,
        roles=_roles(raw.get("roles"), where),
    )


def load_issuers_file(path: Path) -> list[IssuerConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LaunchConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise LaunchConfigError(f"{path}: not valid {path.suffix or 'TOML'}: {exc}") from None
    entries = document.get("issuer") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LaunchConfigError(f"{path}: expected a list of issuer tables under 'issuer'")
    try:
        return [issuer_from_mapping(entry, base_dir=path.parent) for entry in entries]
    except LaunchConfigError as exc:
        raise LaunchConfigError(f"{path}: {exc}") from None


def index_issuers(issuers: list[IssuerConfig]) -> dict[str, IssuerConfig]:
    by_id: dict[str, IssuerConfig] = {}
    for issuer in issuers:
        if issuer.id in by_id:
            raise LaunchConfigError(f"issuer {issuer.id!r} is configured twice")
        by_id[issuer.id] = issuer
    return by_id


def fetchable_jwks_url(url: str) -> bool:
    """https, or plain http to a loopback address (a key server on this machine, for tests)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _kinds(secret: bytes, public_pem: bytes, jwks_url: object) -> list[tuple[KeyKind, object]]:
    return [(KeyKind.SECRET, secret), (KeyKind.PUBLIC_KEY, public_pem), (KeyKind.JWKS, jwks_url)]


def _secret(raw: Mapping[str, Any], base_dir: Path, where: str) -> bytes:
    inline, from_file = raw.get("secret"), raw.get("secret_file")
    if inline and from_file:
        raise LaunchConfigError(f"{where}: give secret or secret_file, not both")
    if inline:
        if not isinstance(inline, str):
            raise LaunchConfigError(f"{where}: secret must be a string")
        return inline.encode()
    return _read(from_file, base_dir, where, "secret_file").strip()


def _read(value: object, base_dir: Path, where: str, option: str) -> bytes:
    if not value:
        return b""
    if not isinstance(value, str):
        raise LaunchConfigError(f"{where}: {option} must be a path")
    path = _path(value, base_dir)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LaunchConfigError(f"{where}: {option} {path}: {exc.strerror}") from None


def _path(value: object, base_dir: Path) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else base_dir / path


def _algorithms(value: object, kind: KeyKind, where: str) -> frozenset[str]:
    allowed = ALGORITHMS_BY_KIND[kind]
    if value is None:
        return frozenset({"HS256"}) if kind is KeyKind.SECRET else allowed
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        raise LaunchConfigError(f"{where}: algorithms must be a non-empty list of names")
    wrong = sorted(set(value) - allowed)
    if wrong:
        raise LaunchConfigError(
            f"{where}: algorithm(s) {', '.join(wrong)} cannot be used with a {kind.value} "
            f"key (allowed: {', '.join(sorted(allowed))})"
        )
    return frozenset(value)


def _roles(value: object, where: str) -> dict[str, Role]:
    roles = dict(DEFAULT_ROLES)
    if value is None:
        return roles
    if not isinstance(value, dict):
        raise LaunchConfigError(f"{where}: roles must be a table of EHR role = Pointcare role")
    for ehr_role, ours in value.items():
        try:
            role = Role.parse(str(ours))
        except ValueError as exc:
            raise LaunchConfigError(f"{where}: roles.{ehr_role}: {exc}") from None
        if role is Role.ADMIN:
            raise LaunchConfigError(f"{where}: roles.{ehr_role}: a launch never grants admin")
        roles[str(ehr_role).strip().lower()] = role
    return roles
