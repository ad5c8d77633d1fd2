"""Short-lived bearer tokens for the API: JWT signed with the instance's secret key (HS256)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "pointcare"
AUDIENCE = "pointcare-api"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


class InvalidToken(ValueError):
    pass


def mint_api_token(
    *, secret_key: str, user_id: int, ttl_seconds: int, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def read_api_token(token: str, *, secret_key: str) -> int:
    """The user id a valid token speaks for; ``InvalidToken`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None
