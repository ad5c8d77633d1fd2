"""Which failures are the database's or the disk's (503, 507), and which stay bugs (500)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from pointcare import faults
from pointcare.db.engine import CommitOutcomeUnknown, DatabaseBusy
from pointcare.errors import InsufficientStorage, InvalidInput, ServiceUnavailable


class _PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("could not extend file: No space left on device")
        self.sqlstate = sqlstate


def _sqlite_error(code: int, text: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), InsufficientStorage),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), InsufficientStorage),
        (
            sa_exc.OperationalError("INSERT", {}, _sqlite_error(13, "database or disk is full")),
            InsufficientStorage,
        ),
        (sa_exc.OperationalError("INSERT", {}, _PostgresError("53100")), InsufficientStorage),
        (
            sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")),
            ServiceUnavailable,
        ),
        (sa_exc.InterfaceError("SELECT 1", {}, Exception("connection closed")), ServiceUnavailable),
        (
            sa_exc.OperationalError("BEGIN", {}, _sqlite_error(5, "database is locked")),
            ServiceUnavailable,
        ),
        (DatabaseBusy("another write did not finish"), ServiceUnavailable),
        (sa_exc.TimeoutError("QueuePool limit reached"), ServiceUnavailable),
    ],
)
def test_database_and_disk_failures_become_503_or_507(
    exc: BaseException, expected: type[Exception]
) -> None:
    assert type(faults.as_fault(exc)) is expected


@pytest.mark.parametrize(
    "exc",
    [
        sa_exc.IntegrityError("INSERT", {}, Exception("unique constraint")),
        OSError(errno.EACCES, "Permission denied"),
        RuntimeError("a bug"),
        InvalidInput("already an answer"),
    ],
)
def test_other_failures_are_not_faults(exc: BaseException) -> None:
    assert faults.as_fault(exc) is None


def test_the_log_line_names_the_driver_error_without_sql() -> None:
    exc = sa_exc.OperationalError(
        "SELECT secret FROM t", {}, ConnectionRefusedError("refused\nmore")
    )
    assert faults.describe(exc) == "ConnectionRefusedError: refused"


def test_an_unanswered_commit_is_classified_by_what_it_failed_on() -> None:
    full = sa_exc.OperationalError("COMMIT", {}, _sqlite_error(13, "database or disk is full"))
    try:
        raise CommitOutcomeUnknown("no answer") from full
    except CommitOutcomeUnknown as exc:
        assert type(faults.as_fault(exc)) is InsufficientStorage
    assert type(faults.as_fault(CommitOutcomeUnknown("no answer"))) is ServiceUnavailable
