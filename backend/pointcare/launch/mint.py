"""Signing launch tokens for an issuer whose key Pointcare holds: demos, tests, and the API
guide's worked example of what an EHR sends. Production EHRs sign with their own keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from pointcare.launch.config import IssuerConfig, KeyKind
from pointcare.launch.errors import LaunchConfigError

DEFAULT_LIFETIME = timedelta(minutes=2)


def signing_key(issuer: IssuerConfig) -> tuple[Any, str]:
    """(key, algorithm) to sign for ``issuer``; ``LaunchConfigError`` when there is none."""
    if issuer.key_kind is KeyKind.SECRET:
        return issuer.secret, "HS256"
    if issuer.signing_key_file is None:
        raise LaunchConfigError(
            f"issuer {issuer.id!r} has no local signing key (signing_key_file): Pointcare can "
            "only verify its tokens"
        )
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(issuer.signing_key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise LaunchConfigError(f"issuer {issuer.id!r}: signing_key_file: {exc}") from None
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    if algorithm not in issuer.algorithms:
        raise LaunchConfigError(f"issuer {issuer.id!r} does not allow {algorithm}")
    return key, algorithm


def mint_launch_token(
    issuer: IssuerConfig,
    *,
    audience: str,
    subject: str,
    name: str,
    role: str,
    patient: str | dict[str, str],
    encounter: str | None = None,
    view: str | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> str:
    key, algorithm = signing_key(issuer)
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer.id,
        "aud": audience,
        "sub": subject,
        "name": name,
        "role": role,
        "patient": patient,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if encounter:
        claims["encounter"] = encounter
    if view:
        claims["view"] = view
    return jwt.encode(claims, key, algorithm=algorithm)
