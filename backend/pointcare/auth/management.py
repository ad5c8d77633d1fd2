"""Managing accounts: an admin adds, switches off and on, re-roles and resets; every user
changes their own password.

Rules kept here, not in the pages:

- a password an admin gives out (a new account, a reset) is random, shown once, must be
  changed at the next sign-in (``User.must_change_password``), and stops working when it has
  not been changed in time (``User.temporary_password_expires_at``);
- switching an account off or resetting its password ends its sessions and revokes its API
  tokens; changing one's own password ends one's other sessions and tokens;
- there is always an active admin: the last one can be neither switched off nor given another
  role, by anyone, themselves included. The check runs inside the writing transaction, after
  every other account change has queued behind it (SQLite's one writer; a PostgreSQL advisory
  lock), so that two admins demoting each other at the same moment cannot both succeed;
- an account opened from the EHR (``external_issuer``) has no password here and takes its role
  from each launch: it can be switched off, not reset or re-roled.

Callers pass a session of ``Database.write()`` and record the audit event in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Subquery, func, or_, select, text, true
from sqlalchemy.orm import Session

from pointcare.auth.accounts import add_user, revoke_api_tokens, temporary_password_expired
from pointcare.auth.passwords import hash_password, new_password_problems, temporary_password
from pointcare.auth.roles import Role
from pointcare.auth.sessions import close_all_sessions
from pointcare.db.models import User, UserSession
from pointcare.db.types import utcnow
from pointcare.domain.patients import check_identifier
from pointcare.errors import Conflict, InvalidInput, NotFound

ACCOUNTS_LOCK = int.from_bytes(b"pointacc", "big")
"""PostgreSQL advisory lock key held by every account change ("pointacc" in ASCII)."""
MAX_DISPLAY_NAME = 128
LAST_ADMIN = (
    "{name} is the last active administrator: give another account the admin role first, so "
    "that someone can still manage accounts."
)
EHR_ACCOUNT_NOT_RESET = (
    "{name} signs in from the EHR and has no Pointcare password to reset: the EHR vouches for them."
)
EHR_ACCOUNT_ROLE = "{name} signs in from the EHR, which sets their role at each launch."


@dataclass(frozen=True, slots=True)
class Account:
    """One account as the users page shows it (never its password hash)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    active: bool
    external: bool
    """Opened from the EHR: no password here."""
    must_change_password: bool
    temporary_password_expires_at: datetime | None
    temporary_password_expired: bool
    last_sign_in: datetime | None

    @classmethod
    def of(cls, user: User, last_sign_in: datetime | None) -> Account:
        return cls(
            user.id,
            user.username,
            user.display_name,
            Role(user.role),
            user.active,
            user.external_issuer is not None,
            user.must_change_password,
            user.temporary_password_expires_at,
            temporary_password_expired(user, utcnow()),
            last_sign_in,
        )


@dataclass(frozen=True, slots=True)
class GivenPassword:
    """A temporary password, to be shown to the admin once and never stored in clear."""

    user: User
    password: str


def _last_sign_in() -> Subquery:
    return (
        select(UserSession.user_id, func.max(UserSession.created_at).label("at"))
        .group_by(UserSession.user_id)
        .subquery()
    )


@dataclass(frozen=True, slots=True)
class Accounts:
    """The accounts a users page lists: at most the limit asked, of ``total`` that match."""

    shown: list[Account]
    total: int


def list_accounts(session: Session, *, matching: str = "", limit: int) -> Accounts:
    """The accounts whose user name or name shown contains ``matching`` (any case; every
    account when blank), by user name, at most ``limit``, each with its last sign-in (the
    newest session it opened)."""
    wanted = " ".join(matching.split()).lower()
    where = (
        or_(
            func.lower(User.username).contains(wanted, autoescape=True),
            func.lower(User.display_name).contains(wanted, autoescape=True),
        )
        if wanted
        else true()
    )
    total = session.scalar(select(func.count(User.id)).where(where)) or 0
    last = _last_sign_in()
    rows = session.execute(
        select(User, last.c.at)
        .outerjoin(last, last.c.user_id == User.id)
        .where(where)
        .order_by(User.username)
        .limit(limit)
    ).all()
    return Accounts([Account.of(user, at) for user, at in rows], total)


def account(session: Session, user_id: int) -> Account:
    last = _last_sign_in()
    row = session.execute(
        select(User, last.c.at).outerjoin(last, last.c.user_id == User.id).where(User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("There is no such account.")
    return Account.of(row[0], row[1])


def add_account(
    session: Session, *, username: str, display_name: str, role: str, valid_for: timedelta
) -> GivenPassword:
    """A new local account with a temporary password that works for ``valid_for``;
    ``InvalidInput`` / ``Conflict`` name the field at fault (``username``, ``display_name``,
    ``role``)."""
    errors: dict[str, str] = {}
    try:
        name = check_identifier(username, "user name")
    except ValueError as exc:
        errors["username"] = _sentence(str(exc)) if username.strip() else "Type a user name."
        name = ""
    shown = " ".join(display_name.split())
    if not shown:
        errors["display_name"] = "Type the name colleagues know them by."
    elif len(shown) > MAX_DISPLAY_NAME:
        errors["display_name"] = f"Use at most {MAX_DISPLAY_NAME} characters."
    try:
        Role.parse(role)
    except ValueError:
        errors["role"] = "Choose a role."
    if errors:
        raise InvalidInput("Some details are missing or wrong.", errors=errors)
    _serialise_account_changes(session)
    if session.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        raise Conflict(
            f"An account named {name} already exists.",
            errors={"username": f"{name} is taken: choose another user name."},
        )
    password = temporary_password()
    user = add_user(session, username=name, role=role, password=password, display_name=shown)
    _give_temporary(user, valid_for)
    session.flush()
    return GivenPassword(user, password)


def set_active(session: Session, user_id: int, *, active: bool) -> User:
    """Switch an account on or off; off ends its sessions and revokes its API tokens."""
    _serialise_account_changes(session)
    user = _user(session, user_id)
    if not active and user.active and user.role == Role.ADMIN:
        _keep_an_admin(session, user)
    user.active = active
    if not active:
        close_all_sessions(session, user.id)
        revoke_api_tokens(session, user.id)
    session.flush()
    return user


def change_role(session: Session, user_id: int, role: str) -> tuple[User, Role]:
    """Give an account another role; the one it had is returned (for the audit trail)."""
    try:
        new_role = Role.parse(role)
    except ValueError:
        raise InvalidInput("Choose a role.", errors={"role": "Choose a role."}) from None
    _serialise_account_changes(session)
    user = _user(session, user_id)
    before = Role(user.role)
    if user.external_issuer is not None:
        raise Conflict(EHR_ACCOUNT_ROLE.format(name=user.username))
    if before is Role.ADMIN and new_role is not Role.ADMIN and user.active:
        _keep_an_admin(session, user)
    user.role = new_role.value
    session.flush()
    return user, before


def reset_password(session: Session, user_id: int, *, valid_for: timedelta) -> GivenPassword:
    """A new temporary password for a local account, that works for ``valid_for``; its
    sessions end, its tokens stop."""
    _serialise_account_changes(session)
    user = _user(session, user_id)
    if user.external_issuer is not None or user.password_hash is None:
        raise Conflict(EHR_ACCOUNT_NOT_RESET.format(name=user.username))
    password = temporary_password()
    user.password_hash = hash_password(password)
    _give_temporary(user, valid_for)
    close_all_sessions(session, user.id)
    revoke_api_tokens(session, user.id)
    session.flush()
    return GivenPassword(user, password)


def change_own_password(
    session: Session,
    user_id: int,
    *,
    current: str,
    new: str,
    repeated: str,
    keep_session_id: int | None,
) -> int:
    """Set the password a user chose (their current one already checked by the caller, which
    throttles it as a sign-in); every other session of theirs ends and their API tokens stop.
    Returns how many other sessions were ended."""
    user = _user(session, user_id)
    problems = new_password_problems(new, repeated, username=user.username, current=current)
    if problems:
        raise InvalidInput(next(iter(problems.values())), errors=problems)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    ended = close_all_sessions(session, user.id, keep=keep_session_id)
    revoke_api_tokens(session, user.id)
    session.flush()
    return ended


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound("There is no such account.")
    return user


def _serialise_account_changes(session: Session) -> None:
    """Queue this transaction behind any other account change (PostgreSQL: an advisory lock
    until commit; SQLite: ``Database.write()`` already holds the one write lock), so that what
    it reads next is what the others committed."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACCOUNTS_LOCK})


def _give_temporary(user: User, valid_for: timedelta) -> None:
    user.must_change_password = True
    user.temporary_password_expires_at = utcnow() + valid_for


def _keep_an_admin(session: Session, leaving: User) -> None:
    others = session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN.value, User.active.is_(True), User.id != leaving.id
        )
    )
    if not others:
        raise Conflict(LAST_ADMIN.format(name=leaving.username))


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:].rstrip(".") + "."
