"""Short-lived bearer tokens for the API: JWT signed with the instance's secret key (HS256).

A token carries its user's token generation (``gen``): "sign out everywhere" moves the user's
generation on, and every token minted before stops working. A token made to live longer than
``POINTCARE_TOKEN_MAX_TTL_SECONDS`` is refused, whoever minted it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "pointcare"
AUDIENCE = "pointcare-api"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


class InvalidToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ApiToken:
    user_id: int
    generation: int


def mint_api_token(
    *,
    secret_key: str,
    user_id: int,
    ttl_seconds: int,
    generation: int = 0,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "gen": generation,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def read_api_token(token: str, *, secret_key: str, max_ttl_seconds: int) -> ApiToken:
    """Whom a valid token speaks for, and its generation; ``InvalidToken`` for anything else
    (a token made to live longer than ``max_ttl_seconds`` too)."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "gen"]},
        )
        lifetime = int(claims["exp"]) - int(claims["iat"])
        if lifetime > max_ttl_seconds:
            raise InvalidToken(f"the token lives {lifetime} s, more than {max_ttl_seconds} s")
        generation = claims["gen"]
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise InvalidToken("the token's generation is not a number")
        return ApiToken(int(claims["sub"]), generation)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None
