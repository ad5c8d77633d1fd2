"""Verifying a launch token: trusted issuer, allowed algorithm, signature, audience and times.

What is checked, in order: the token's size and shape; ``iss`` names a configured issuer; the
header's ``alg`` is on that issuer's allow-list (never ``none``); the key for that algorithm
(and ``kid``) verifies the signature; ``aud`` is this Pointcare; ``exp``, ``iat``, ``jti``,
``sub`` are present; ``exp`` and ``nbf`` hold with a small leeway; the token lives at most five
minutes (``exp - iat``) and was not issued in the future. Single use (``jti``) is the database's
job (``pointcare.launch.replay``). Every failure is a ``LaunchRefused`` with a short reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import jwt

from pointcare.launch.claims import LaunchClaims, parse_claims
from pointcare.launch.config import IssuerConfig, index_issuers
from pointcare.launch.errors import LaunchIncomplete, LaunchRefused
from pointcare.launch.keys import KeySource, key_source

MAX_LIFETIME_SECONDS = 300
"""A launch token lives at most this long (``exp - iat``): it is used once, seconds after issue."""
MAX_TOKEN_CHARS = 8192
REQUIRED_CLAIMS = ["exp", "iat", "jti", "sub", "iss", "aud"]

_ASK_AGAIN = "Open Pointcare again from the EHR."


class LaunchVerifier:
    """Verifies tokens of the configured issuers; built once, shared by every request."""

    def __init__(
        self,
        issuers: Iterable[IssuerConfig],
        *,
        audience: str,
        leeway_seconds: int,
        key_sources: Mapping[str, KeySource] | None = None,
    ) -> None:
        self.issuers = index_issuers(list(issuers))
        self.audience = audience
        self.leeway_seconds = leeway_seconds
        self._keys = dict(key_sources or {})
        for issuer_id, issuer in self.issuers.items():
            self._keys.setdefault(issuer_id, key_source(issuer))

    async def fetch_keys(self, token: object) -> None:
        """Fetch the key ``token`` names when it is not cached (a JWKS on first use or after a
        rotation), before ``verify``, which only reads the cache. On the event loop: a slow key
        server holds no thread (see ``pointcare.launch.keys``). A token that names no trusted
        issuer fetches nothing; ``verify`` says what is wrong with it."""
        if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_CHARS:
            return
        try:
            header, unverified = _peek(token.strip())
        except LaunchRefused:
            return
        claimed, kid = unverified.get("iss"), header.get("kid")
        issuer = self.issuers.get(claimed) if isinstance(claimed, str) else None
        if issuer is not None and (kid is None or isinstance(kid, str)):
            await self._keys[issuer.id].refresh(kid)

    def verify(self, token: object) -> LaunchClaims:
        if not isinstance(token, str) or not token.strip():
            raise LaunchIncomplete("missing", "This link has no launch token. " + _ASK_AGAIN)
        if len(token) > MAX_TOKEN_CHARS:
            raise LaunchIncomplete("malformed", "This launch link is too long. " + _ASK_AGAIN)
        token = token.strip()
        header, unverified = _peek(token)
        claimed = unverified.get("iss")
        issuer = self.issuers.get(claimed) if isinstance(claimed, str) else None
        if issuer is None:
            raise LaunchRefused(
                "issuer", "This launch link comes from a system Pointcare does not trust."
            )
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in issuer.algorithms:
            raise LaunchRefused(
                "algorithm", "The launch token is signed with an algorithm this EHR may not use."
            )
        if kid is not None and not isinstance(kid, str):
            raise _malformed()
        key = self._keys[issuer.id].key_for(algorithm, kid)
        claims = self._decode(token, key, algorithm, issuer)
        _check_lifetime(claims, self.leeway_seconds)
        return parse_claims(claims, issuer.roles)

    def _decode(self, token: str, key: Any, algorithm: str, issuer: IssuerConfig) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=issuer.id,
                leeway=self.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "strict_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise LaunchRefused("expired", "This launch link has expired. " + _ASK_AGAIN) from None
        except jwt.ImmatureSignatureError:
            raise LaunchRefused(
                "not_yet_valid",
                "This launch link is not valid yet: check the clocks of the EHR and Pointcare.",
            ) from None
        except jwt.InvalidAudienceError:
            raise LaunchRefused(
                "audience", "This launch link was made for another system, not this Pointcare."
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRefused(
                "claims", f"The EHR's launch token has no '{exc.claim}'. " + _ASK_AGAIN
            ) from None
        except jwt.InvalidSignatureError:
            raise LaunchRefused(
                "signature", "The launch link's signature is not valid. " + _ASK_AGAIN
            ) from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _malformed() from None
        return claims


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims read without verification: only to pick the issuer and its key."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise _malformed() from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _malformed()
    return header, claims


def _check_lifetime(claims: dict[str, Any], leeway: int) -> None:
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise _malformed()  # PyJWT already insists on whole numbers: this is belt and braces
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise LaunchRefused(
            "lifetime",
            "The EHR made this launch link valid for too long (at most 5 minutes are allowed).",
        )
    if issued > time.time() + leeway:
        raise LaunchRefused(
            "not_yet_valid",
            "This launch link is not valid yet: check the clocks of the EHR and Pointcare.",
        )


def _malformed() -> LaunchRefused:
    return LaunchRefused("malformed", "This launch link is damaged or incomplete. " + _ASK_AGAIN)
