"""Verification keys of the trusted issuers: static keys, and JWKS fetched and cached by ``kid``.

A key is looked up for a token's algorithm and key id. A static key only answers for the
algorithms of its own kind (an RSA key for RS256, a P-256 key for ES256, the secret for HS256).
A JWKS is fetched on first use and again when a token names a key id it does not hold (the
issuer rotated its keys), at most once per ``min_refetch_seconds`` so that tokens with made-up
key ids cannot make Pointcare hammer the issuer.

Fetching happens before verification, on the event loop (``refresh``): a slow or hostile key
server holds no worker thread and no lock, the whole fetch has one deadline (connect, headers
and body: a server trickling bytes cannot stretch it), and the body is counted as it arrives,
so that an oversized key set is dropped at the cap, not read whole. Concurrent launches wait
for the one fetch in flight, never beyond its deadline. ``key_for`` only reads the cache.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from pointcare.launch.config import IssuerConfig, KeyKind
from pointcare.launch.errors import LaunchConfigError, LaunchRefused

log = logging.getLogger(__name__)

VerificationKey = bytes | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
Keys = dict[str | None, tuple[str | None, VerificationKey]]
JWKS_DEADLINE_SECONDS = 5.0
"""The whole of one JWKS fetch: connection, answer and body."""
JWKS_MAX_BYTES = 256 * 1024
MIN_REFETCH_SECONDS = 60.0


class KeySource(Protocol):
    def key_for(self, algorithm: str, kid: str | None) -> VerificationKey:
        """The key to verify a token signed with ``algorithm`` (and ``kid``), or refuse."""
        ...

    async def refresh(self, kid: str | None) -> None:
        """Fetch what ``key_for(..., kid)`` will need, if it is fetched at all."""
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

    async def refresh(self, kid: str | None) -> None:
        return None  # nothing to fetch


class JwksKeys:
    """The issuer's JSON Web Key Set, cached by key id. ``refresh`` runs on the event loop (one
    loop: no lock needed); ``key_for`` may run in any thread (it swaps nothing, reads once)."""

    def __init__(
        self,
        url: str,
        *,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        deadline_seconds: float = JWKS_DEADLINE_SECONDS,
        max_bytes: int = JWKS_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._min_refetch = min_refetch_seconds
        self._deadline = deadline_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._keys: Keys = {}
        self._fetched_at: float | None = None
        self._fetching: anyio.Event | None = None
        self.fetch_count = 0

    def key_for(self, algorithm: str, kid: str | None) -> VerificationKey:
        found = self._lookup(kid)
        if found is None:
            raise _no_key("The EHR signed the launch token with a key Pointcare does not know.")
        declared_alg, key = found
        if (declared_alg and declared_alg != algorithm) or not key_matches(key, algorithm):
            raise _no_key("The launch token is signed with an algorithm this EHR may not use.")
        return key

    async def refresh(self, kid: str | None) -> None:
        """Fetch the set when it lacks ``kid`` and the interval allows; or wait (at most the
        deadline) for the fetch already under way."""
        if self._lookup(kid) is not None:
            return
        if self._fetching is not None:
            with anyio.move_on_after(self._deadline):
                await self._fetching.wait()
            return
        if not self._may_refetch():
            return
        self._fetched_at = self._clock()
        self.fetch_count += 1
        self._fetching = done = anyio.Event()
        try:
            self._keys = await fetch_jwks(self.url, self._deadline, self._max_bytes)
        except (httpx.HTTPError, ValueError, TimeoutError) as exc:
            # Keep the keys we had: a failed refresh must not lock every user out.
            log.warning("launch: could not fetch the JWKS at %s: %s", self.url, exc or "timeout")
        finally:
            self._fetching = None
            done.set()

    def _lookup(self, kid: str | None) -> tuple[str | None, VerificationKey] | None:
        keys = self._keys
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))  # one key and no kid: unambiguous
        return keys.get(kid) if kid is not None else None

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refetch


async def fetch_jwks(url: str, deadline: float, max_bytes: int) -> Keys:
    """The signing keys at ``url``, fetched within ``deadline`` seconds in all, the body
    refused once it passes ``max_bytes``. ``TimeoutError``, ``httpx.HTTPError`` or
    ``ValueError`` otherwise."""
    body = bytearray()
    with anyio.fail_after(deadline):
        async with (
            httpx.AsyncClient(timeout=deadline, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ValueError(f"the key set is larger than {max_bytes} bytes")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ValueError(f"the key set is larger than {max_bytes} bytes")
    return parse_jwks(json.loads(body))


def parse_jwks(document: Any) -> Keys:
    """Signing keys of a JWKS by ``kid``: (declared ``alg``, key). Other keys are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS (no 'keys' list)")
    found: Keys = {}
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
