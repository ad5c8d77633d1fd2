"""Failures of what Pointcare stands on (the database server, the disks), as application errors.

A request that meets one gets a plain answer instead of a 500 and a traceback: 503 with
``Retry-After`` while the database cannot be reached or stays busy (nothing was done, and the
phone sends the photo again with the same ``capture_id``, which stores it once), 507 when a
disk is full. ``as_fault`` says which, or None for anything else: a bug stays a 500, logged in
full.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from pointcare.db.engine import CommitOutcomeUnknown, DatabaseBusy
from pointcare.errors import InsufficientStorage, PointcareError, ServiceUnavailable

FULL_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
POSTGRES_DISK_FULL = "53100"
SQLITE_FULL = 13

DATABASE_UNAVAILABLE = (
    "The database cannot be reached right now; nothing was changed. Try again in a few seconds."
)
DATABASE_BUSY = "The database is busy; nothing was changed. Try again in a few seconds."
DISK_FULL = (
    "The server's disk is full, so nothing was stored. Ask the administrator to free space; "
    "what you sent can be sent again then."
)
DATABASE_FULL = (
    "The database's disk is full, so nothing was stored. Ask the administrator to free space; "
    "what you sent can be sent again then."
)


def as_fault(exc: BaseException) -> PointcareError | None:
    """The application error for a failure of the database or a disk; None for the rest."""
    if isinstance(exc, PointcareError):
        return None
    if isinstance(exc, CommitOutcomeUnknown):  # what the COMMIT failed on, else "unreachable"
        cause = exc.__cause__
        return (as_fault(cause) if cause is not None else None) or ServiceUnavailable(
            DATABASE_UNAVAILABLE
        )
    if isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS:
        return InsufficientStorage(DISK_FULL)
    if isinstance(exc, DatabaseBusy | sa_exc.TimeoutError):  # our write queue, or the pool
        return ServiceUnavailable(DATABASE_BUSY)
    if isinstance(exc, sa_exc.DBAPIError):
        if _disk_full(exc.orig):
            return InsufficientStorage(DATABASE_FULL)
        if exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        ):
            return ServiceUnavailable(DATABASE_UNAVAILABLE)
    return None


def describe(exc: BaseException) -> str:
    """A one-line cause for the log: the driver's first line (connection errors name hosts
    and ports, never data), without SQL."""
    if isinstance(exc, CommitOutcomeUnknown) and exc.__cause__ is not None:
        exc = exc.__cause__
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {first_line[:200]}"


def _disk_full(driver_error: BaseException | None) -> bool:
    if getattr(driver_error, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    return getattr(driver_error, "sqlite_errorcode", None) == SQLITE_FULL
