"""Single use: a launch token's ``jti`` is remembered until the token expires.

The unique (issuer, jti) row is the lock: two browsers racing with one token both try to insert
it, and the database lets exactly one of them through. Rows of expired tokens are purged as new
launches arrive (an expired token is refused on its ``exp`` anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pointcare.db.models import LaunchTokenUsed
from pointcare.launch.errors import LaunchRefused

REMEMBER_PAST_EXPIRY = timedelta(minutes=5)
"""Kept a little past ``exp``: longer than any clock leeway that could still accept the token."""


def use_token_once(session: Session, *, issuer: str, jti: str, expires_at: int) -> None:
    """Record the token as used, or refuse it when it was used before (inside the caller's
    transaction: when the launch fails later on, the token stays unused)."""
    now = datetime.now(UTC)
    session.execute(delete(LaunchTokenUsed).where(LaunchTokenUsed.expires_at < now))
    seen = session.scalar(
        select(LaunchTokenUsed.id).where(
            LaunchTokenUsed.issuer == issuer, LaunchTokenUsed.jti == jti
        )
    )
    if seen is not None:
        raise _replayed()
    expiry = datetime.fromtimestamp(expires_at, UTC) + REMEMBER_PAST_EXPIRY
    try:
        with session.begin_nested():
            session.add(LaunchTokenUsed(issuer=issuer, jti=jti, expires_at=expiry, used_at=now))
            session.flush()
    except IntegrityError:
        raise _replayed() from None  # another request used it a moment ago


def _replayed() -> LaunchRefused:
    return LaunchRefused(
        "replay",
        "This launch link was already used. Each link opens Pointcare once: open Pointcare "
        "again from the EHR.",
    )
