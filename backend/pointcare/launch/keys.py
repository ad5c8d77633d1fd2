"""Verification keys of the trusted issuers: static keys, and JWKS fetched and cached by ``kid``.

A key is looked up for a token's algorithm and key id. A static key only answers for the
algorithms of its own kind (an RSA key for RS256, a P-256 key for ES256, the secret for HS256);
a JWKS is fetched on first use and again when a token names a key id it does not hold (the
issuer rotated its keys), at most once per ``min_refetch_seconds`` so that tokens with made-up
key ids cannot make Pointcare hammer the issuer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from pointcare.launch.config import IssuerConfig, KeyKind
from pointcare.launch.errors import LaunchConfigError, LaunchRefused

log = logging.getLogger(__name__)

VerificationKey = bytes | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
JWKS_TIMEOUT_SECONDS = 5.0
JWKS_MAX_BYTES = 256 * 1024
MIN_REFETCH_SECONDS = 60.0


class KeySource(Protocol):
    def key_for(self, algorithm: str, kid: str | None) -> VerificationKey:
        """The key to verify a token signed with ``algorithm`` (and ``kid``), or refuse."""
        ...


def key_matches(key: VerificationKey, algorithm: str) -> bool:
    """A key answers only for its own algorithm family: this is the HS/RS confusion guard."""
    if algorithm == "HS256":
        return isinstance(key, bytes)
    if algorithm == "RS256":
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    if algorithm == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return False


def _no_key(detail: str) -> LaunchRefused:
    return LaunchRefused("key", detail)


@dataclass(frozen=True)
class StaticKey:
    """A shared secret or one public key, from the configuration."""

    key: VerificationKey

    def key_for(self, algorithm: str, kid: str | None) -> VerificationKey:
        if not key_matches(self.key, algorithm):
            raise _no_key("The launch token is signed with an algorithm this EHR may not use.")
        return self.key


class JwksKeys:
    """The issuer's JSON Web Key Set, cached by key id; thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        timeout_seconds: float = JWKS_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._min_refetch = min_refetch_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, tuple[str | None, VerificationKey]] = {}
        self._fetched_at: float | None = None
        self.fetch_count = 0

    def key_for(self, algorithm: str, kid: str | None) -> VerificationKey:
        with self._lock:
            found = self._lookup(kid)
            if found is None and self._may_refetch():
                self._refresh()
                found = self._lookup(kid)
        if found is None:
            raise _no_key("The EHR signed the launch token with a key Pointcare does not know.")
        declared_alg, key = found
        if (declared_alg and declared_alg != algorithm) or not key_matches(key, algorithm):
            raise _no_key("The launch token is signed with an algorithm this EHR may not use.")
        return key

    def _lookup(self, kid: str | None) -> tuple[str | None, VerificationKey] | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))  # one key and no kid: unambiguous
        return self._keys.get(kid) if kid is not None else None

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refetch

    def _refresh(self) -> None:
        self._fetched_at = self._clock()
        self.fetch_count += 1
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > JWKS_MAX_BYTES:
                raise ValueError("the key set is too large")
            keys = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            # Keep the keys we had: a failed refresh must not lock every user out.
            log.warning("launch: could not fetch the JWKS at %s: %s", self.url, exc)
            return
        self._keys = keys


def parse_jwks(document: Any) -> dict[str | None, tuple[str | None, VerificationKey]]:
    """Signing keys of a JWKS by ``kid``: (declared ``alg``, key). Other keys are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS (no 'keys' list)")
    found: dict[str | None, tuple[str | None, VerificationKey]] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in {"RSA", "EC"}:
            continue  # never "oct": a key set does not hand out HMAC secrets
        try:
            key = jwt.PyJWK(entry).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            kid = entry.get("kid")
            alg = entry.get("alg")
            found[kid if isinstance(kid, str) else None] = (
                alg if isinstance(alg, str) else None,
                key,
            )
    return found


def key_source(issuer: IssuerConfig) -> KeySource:
    if issuer.key_kind is KeyKind.SECRET:
        return StaticKey(issuer.secret)
    if issuer.key_kind is KeyKind.JWKS:
        return JwksKeys(issuer.jwks_url)
    try:
        key = load_pem_public_key(issuer.public_key_pem)
    except ValueError as exc:
        raise LaunchConfigError(f"issuer {issuer.id!r}: public key unreadable: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise LaunchConfigError(f"issuer {issuer.id!r}: the public key must be RSA or EC P-256")
    if not any(key_matches(key, alg) for alg in issuer.algorithms):
        raise LaunchConfigError(
            f"issuer {issuer.id!r}: the public key does not fit {', '.join(issuer.algorithms)} "
            "(RS256 needs RSA of 2048 bits or more, ES256 an EC P-256 key)"
        )
    return StaticKey(key)
