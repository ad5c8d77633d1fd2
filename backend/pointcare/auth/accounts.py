"""Local accounts: create, authenticate, look up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pointcare.auth.passwords import hash_password, verify_password
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.db.models import User
from pointcare.domain.patients import check_identifier
from pointcare.errors import Conflict, InvalidInput


def principal_of(
    user: User,
    session_id: int | None = None,
    bound_patient_id: int | None = None,
    *,
    locked: bool = False,
) -> Principal:
    return Principal(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        session_id,
        bound_patient_id,
        locked,
        user.must_change_password,
    )


def add_user(
    session: Session, *, username: str, role: str, password: str, display_name: str | None = None
) -> User:
    try:
        name = check_identifier(username, "user name")
        parsed_role = Role.parse(role)
        password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"a user named {name!r} already exists")
    user = User(
        username=name,
        display_name=(display_name or name).strip(),
        role=parsed_role.value,
        password_hash=password_hash,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Takes the same time either way."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


def revoke_api_tokens(session: Session, user_id: int) -> None:
    """Every API token minted for the user so far stops working ("sign out everywhere")."""
    session.execute(
        update(User).where(User.id == user_id).values(token_generation=User.token_generation + 1)
    )


def temporary_password_expired(user: User, now: datetime) -> bool:
    """Whether ``user`` still has a password an admin gave out, and it has stopped working."""
    expires = user.temporary_password_expires_at
    return user.must_change_password and expires is not None and now >= expires


def active_user(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user is not None and user.active else None
