"""Users vouched for by an EHR: created or updated from a launch token's claims.

Such a user has no password (they can only arrive by a launch) and is found by (issuer, sub),
never by user name: a token whose ``sub`` happens to be ``admin`` cannot become the local admin.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.db.models import User
from pointcare.launch.claims import LaunchClaims
from pointcare.launch.errors import LaunchRefused

MAX_USERNAME = 64


def external_user(session: Session, claims: LaunchClaims) -> User:
    """The user for these claims, created on first launch; name and role follow the EHR."""
    user = session.scalar(
        select(User).where(
            User.external_issuer == claims.issuer, User.external_subject == claims.subject
        )
    )
    if user is None:
        user = User(
            username=_free_username(session, claims),
            display_name=claims.display_name,
            role=claims.role.value,
            password_hash=None,
            active=True,
            external_issuer=claims.issuer,
            external_subject=claims.subject,
        )
        session.add(user)
    elif not user.active:
        raise LaunchRefused(
            "user_inactive", "Your Pointcare account is switched off. Call the IT service desk."
        )
    else:
        user.display_name = claims.display_name
        user.role = claims.role.value
    session.flush()
    return user


def _free_username(session: Session, claims: LaunchClaims) -> str:
    """``sub@issuer``; shortened with a hash when too long or when a local account has it."""
    wanted = f"{claims.subject}@{claims.issuer}"
    if len(wanted) <= MAX_USERNAME and not _taken(session, wanted):
        return wanted
    digest = hashlib.sha256(f"{claims.issuer}\0{claims.subject}".encode()).hexdigest()[:12]
    return f"{claims.subject[: MAX_USERNAME - 14]}@~{digest}"


def _taken(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None
