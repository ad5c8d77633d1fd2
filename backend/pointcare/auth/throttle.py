"""Sign-in rate limiting and temporary lockout, per key (a user name, a client address...).

Every password check that a stranger can repeat goes through here: the sign-in form, and the
bedside screen's unlock. Usage::

    keys = throttle.sign_in_keys(username, client_address)
    attempt = throttle.guarded(
        runtime.db, keys, throttle.ThrottlePolicy.from_settings(runtime.settings),
        lambda session: authenticate(session, username, password),   # result or None
        actor=audit.actor_of(request, username=username),
    )
    if attempt.lockout is not None:
        ...answer 429, Retry-After: attempt.lockout.retry_after_seconds(),
           with attempt.lockout.message() (already audited as login.locked)...
    elif attempt.result is None:
        ...wrong password...

``reserve`` and ``settle`` are the steps ``guarded`` takes (``failed`` both at once, ``locked``
a look without counting), for callers that need them inside a transaction of their own.

A key is locked for ``policy.lockout`` once it collected ``policy.limit(key)`` failures within
``policy.window``. Unknown user names are counted exactly like real ones, so a lockout never
tells whether an account exists; and while a key is locked the password is not even checked.
Each attempt is counted before its password is checked, so that many sent at once get no more
checks than the limit.
The per-address key stops one machine from trying many user names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.db.engine import Database
from pointcare.db.models import SignInThrottle
from pointcare.settings import Settings

USER = "user"
ADDRESS = "address"
_KEY_LENGTH = 255
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    """Per user name (and any other kind of key but an address)."""
    window: timedelta
    lockout: timedelta
    max_failures_per_address: int = 20
    """Higher: a ward workstation, or a proxy, is one address for many users."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
            lockout=timedelta(minutes=settings.login_lockout_minutes),
            max_failures_per_address=settings.login_max_failures_per_address,
        )

    def limit(self, key: ThrottleKey) -> int:
        return self.max_failures_per_address if key.kind == ADDRESS else self.max_failures


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    kind: str
    """``user``, ``address``, or another caller's own kind (at most 16 characters)."""
    value: str


@dataclass(frozen=True, slots=True)
class Lockout:
    until: datetime
    kind: str
    """Which key is locked (for the audit trail; never shown: it would tell what was guessed)."""

    def retry_after_seconds(self, now: datetime | None = None) -> int:
        left = (self.until - (now or datetime.now(UTC))).total_seconds()
        return max(1, math.ceil(left))

    def message(self, now: datetime | None = None) -> str:
        minutes = max(1, math.ceil(self.retry_after_seconds(now) / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return (
            "Too many failed sign-ins. Sign-in is paused for safety: try again in "
            f"{minutes} {unit}, or ask the service desk to check your account."
        )


def sign_in_keys(username: str, client_address: str | None) -> tuple[ThrottleKey, ...]:
    """The keys of a sign-in attempt: the user name as typed (folded) and the client address."""
    keys = [ThrottleKey(USER, username.strip().lower()[:_KEY_LENGTH])]
    if client_address:
        keys.append(ThrottleKey(ADDRESS, client_address[:_KEY_LENGTH]))
    return tuple(keys)


def _matching(keys: tuple[ThrottleKey, ...]) -> ColumnElement[bool]:
    return or_(*(and_(SignInThrottle.kind == k.kind, SignInThrottle.key == k.value) for k in keys))


def locked(
    session: Session, keys: tuple[ThrottleKey, ...], *, now: datetime | None = None
) -> Lockout | None:
    """The lockout in force for any of ``keys`` (the one lasting longest), or None."""
    if not keys:
        return None
    moment = now or datetime.now(UTC)
    rows = session.scalars(
        select(SignInThrottle).where(_matching(keys), SignInThrottle.locked_until > moment)
    ).all()
    if not rows:
        return None
    last = max(rows, key=lambda row: row.locked_until or moment)
    assert last.locked_until is not None
    return Lockout(until=last.locked_until, kind=last.kind)


def reserve(
    session: Session,
    keys: tuple[ThrottleKey, ...],
    policy: ThrottlePolicy,
    *,
    now: datetime | None = None,
) -> Lockout | None:
    """Count an attempt against every key *before* its password is checked, so that attempts
    sent in parallel cannot all slip under the limit while their hashes run. The attempt is
    refused unchecked (the ``Lockout``) when a key is locked, or when attempts already under
    way reach its limit. The keys' rows stay locked until the caller's transaction ends."""
    moment = now or datetime.now(UTC)
    _purge(session, policy, moment)
    rows = [(key, _row_for_update(session, key, moment)) for key in keys]
    for key, row in rows:
        if row.locked_until is not None and row.locked_until > moment:
            return Lockout(until=row.locked_until, kind=key.kind)
    for key, row in rows:
        if moment - row.window_started_at >= policy.window or row.locked_until is not None:
            row.failures, row.window_started_at, row.locked_until = 0, moment, None
        if row.failures >= policy.limit(key):
            return Lockout(until=moment + policy.lockout, kind=key.kind)
    for _key, row in rows:
        row.failures += 1
    session.flush()
    return None


def settle(
    session: Session,
    keys: tuple[ThrottleKey, ...],
    policy: ThrottlePolicy,
    *,
    right: bool,
    now: datetime | None = None,
) -> Lockout | None:
    """After the check of a reserved attempt: a right password gives its reservation back
    (``succeeded``); a wrong one keeps it counted and locks the keys it brought to their
    limit (the lockout it started, if any)."""
    if right:
        for key in keys:
            if key.kind == ADDRESS:
                row = _row_for_update(session, key, now or datetime.now(UTC))
                row.failures = max(0, row.failures - 1)
        succeeded(session, keys)
        return None
    moment = now or datetime.now(UTC)
    started: Lockout | None = None
    for key in keys:
        row = _row_for_update(session, key, moment)
        locked_now = row.locked_until is not None and row.locked_until > moment
        if not locked_now and row.failures >= policy.limit(key):
            row.locked_until = moment + policy.lockout
            row.failures = 0
            if started is None or row.locked_until > started.until:
                started = Lockout(until=row.locked_until, kind=key.kind)
    session.flush()
    return started


def failed(
    session: Session,
    keys: tuple[ThrottleKey, ...],
    policy: ThrottlePolicy,
    *,
    now: datetime | None = None,
) -> Lockout | None:
    """Count one wrong password (reserved and settled at once); the lockout it started, if
    any (None also when a key was locked already: nothing new was counted)."""
    if reserve(session, keys, policy, now=now) is not None:
        return None
    return settle(session, keys, policy, right=False, now=now)


def succeeded(session: Session, keys: tuple[ThrottleKey, ...]) -> None:
    """A right password: forget the user's failures. An address's failures stay counted, so
    that signing in to one's own account between guesses does not reset the count."""
    personal = tuple(key for key in keys if key.kind != ADDRESS)
    if personal:
        session.execute(delete(SignInThrottle).where(_matching(personal)))


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    """What a throttled check gave: its result (None: refused), and the lockout in force."""

    result: T | None
    lockout: Lockout | None


def guarded(
    db: Database,
    keys: tuple[ThrottleKey, ...],
    policy: ThrottlePolicy,
    check: Callable[[Session], T | None],
    *,
    actor: audit.Actor,
) -> Attempt[T]:
    """Run ``check`` (a password verification: its result, or None when wrong) unless one of
    ``keys`` is locked or at its limit; the attempt is counted before the check (``reserve``)
    and settled after it. A refusal because of a lockout (in force, or started by this
    failure) is audited as ``login.locked``.

    The slow password hash runs between two short write transactions, so that sign-ins never
    hold up other writers; the reservation is what keeps parallel attempts within the limit.
    """
    with db.write() as session:
        lock = reserve(session, keys, policy)
    result = None
    if lock is None:
        with db.session() as session:
            result = check(session)
        with db.write() as session:
            lock = settle(session, keys, policy, right=result is not None)
    if lock is not None:
        audit.record_now(
            db,
            audit.AuditEvent(
                action=audit.AuditAction.LOGIN_LOCKED,
                actor=actor,
                outcome=audit.Outcome.REFUSED,
                reason=f"too many failed attempts for this {lock.kind}",
                details={"locked_until": lock.until.isoformat(timespec="seconds")},
            ),
        )
    return Attempt(None if lock is not None else result, lock)


def _row_for_update(session: Session, key: ThrottleKey, moment: datetime) -> SignInThrottle:
    """The key's row, created if missing, locked until the transaction ends (PostgreSQL;
    SQLite writers are serialised by ``BEGIN IMMEDIATE``)."""
    values = {"kind": key.kind, "key": key.value, "failures": 0, "window_started_at": moment}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(SignInThrottle).values(**values).on_conflict_do_nothing())
    row = session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.kind == key.kind, SignInThrottle.key == key.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row


def _purge(session: Session, policy: ThrottlePolicy, moment: datetime) -> None:
    """Forget keys whose window and lockout are long over (keeps the table small)."""
    stale = moment - policy.window - policy.lockout
    session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.window_started_at < stale,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < moment),
        )
    )


__all__ = [
    "ADDRESS",
    "USER",
    "Attempt",
    "Lockout",
    "ThrottleKey",
    "ThrottlePolicy",
    "failed",
    "guarded",
    "locked",
    "sign_in_keys",
    "succeeded",
]
