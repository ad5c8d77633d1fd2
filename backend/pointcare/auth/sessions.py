"""Browser sessions kept in the database, so that they can be ended from the server side.

The cookie carries 32 random bytes; the database keeps only their SHA-256. A session ends after
an idle period or an absolute lifetime, whichever comes first, or when the user signs out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pointcare.db.models import User, UserSession

COOKIE_NAME = "pointcare_session"
_TOUCH_INTERVAL = timedelta(seconds=60)
"""last_seen_at is written at most once a minute per session, not on every request."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    user: User,
    policy: SessionPolicy,
    *,
    launch_patient_id: int | None = None,
    launch_encounter: str | None = None,
) -> str:
    """Start a session for ``user``; returns the cookie value. An EHR launch binds the session
    to its patient (``launch_patient_id``, see ``pointcare.launch``)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        UserSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
            launch_patient_id=launch_patient_id,
            launch_encounter=launch_encounter,
        )
    )
    session.flush()
    return token


def resume_session(session: Session, token: str, policy: SessionPolicy) -> UserSession | None:
    """The live session for this cookie value, touched; None when unknown, ended or expired."""
    record = session.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    now = datetime.now(UTC)
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    if now >= record.expires_at or now - record.last_seen_at >= policy.idle:
        record.revoked_at = now
        session.commit()
        return None
    if now - record.last_seen_at >= _TOUCH_INTERVAL:
        record.last_seen_at = now
        session.commit()
    return record


def lock_session(session: Session, session_id: int) -> None:
    """The screen locked (bedside idle lock): the session opens nothing until ``unlock``."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.locked_at.is_(None))
        .values(locked_at=datetime.now(UTC))
    )


def unlock_session(session: Session, session_id: int) -> None:
    """The user typed their password again."""
    session.execute(update(UserSession).where(UserSession.id == session_id).values(locked_at=None))


def close_session(session: Session, token: str) -> int | None:
    """End the session of this cookie value; the id of its user (None: no live session)."""
    return session.scalar(
        update(UserSession)
        .where(UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(UserSession.user_id)
    )


def close_all_sessions(session: Session, user_id: int, *, keep: int | None = None) -> int:
    """End every live session of a user ("sign out everywhere"), but the one ``keep`` names
    (the browser that changed its password); how many were live."""
    live = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        live = live.where(UserSession.id != keep)
    result = session.execute(live.values(revoked_at=datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)


def live_session_count(session: Session, user_id: int) -> int:
    """Sessions of a user that are not ended (some may have timed out without a request yet)."""
    now = datetime.now(UTC)
    return len(
        session.scalars(
            select(UserSession.id).where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        ).all()
    )
