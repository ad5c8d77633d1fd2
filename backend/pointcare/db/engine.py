"""The database: one engine, sessions for reads, and write sessions that take the lock up front.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is on disk when it returns). Write
transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of one
failing when it upgrades a read lock. PostgreSQL needs neither trick.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
AUDIT_KEY = "pointcare.audit_key"
"""``Session.info`` key of the audit chain's HMAC key (read by ``pointcare.audit.trail``)."""


class CommitOutcomeUnknown(Exception):
    """The COMMIT was sent and no answer came back (the connection dropped, the server went
    away): the transaction may be on disk or not. Whoever wrote files for it must not remove
    them; it looks for what the transaction wrote, from a new connection, to find out."""


class DatabaseBusy(TimeoutError):
    """A write waited longer than the busy timeout for its turn (SQLite's one writer)."""


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        audit_key: bytes | None = None,
    ) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                keep_private(Path(parsed.database))
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            }
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        # Every session carries the audit chain's key (pointcare.audit), never stored here.
        info = {AUDIT_KEY: audit_key} if audit_key else {}
        self._reader = sessionmaker(self.engine, expire_on_commit=False, info=info)
        writer_bind = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.is_sqlite
            else self.engine
        )
        self._writer = sessionmaker(writer_bind, expire_on_commit=False, info=info)
        # SQLite has one writer at a time; threads of this process queue here, woken the moment
        # the lock is free, rather than in SQLite's busy handler, which polls with sleeps of up
        # to 100 ms (the busy timeout still covers writers in other processes).
        self._write_turn: AbstractContextManager[Any] = (
            _WriteTurn(SQLITE_BUSY_TIMEOUT_MS / 1000)
            if self.is_sqlite
            else contextlib.nullcontext()
        )

    def session(self) -> Session:
        """A session for reads (and small writes that cannot conflict)."""
        return self._reader()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that holds the write lock from its first statement; commits on success.

        Everything up to the COMMIT is flushed first, so that a failing statement is a certain
        failure (rolled back, nothing stored). A failure of the COMMIT itself is uncertain and
        raises ``CommitOutcomeUnknown``.
        """
        with self._write_turn, self._writer() as session:
            session.begin()
            try:
                yield session
                session.flush()
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except DBAPIError as exc:
                raise CommitOutcomeUnknown(
                    "the database did not answer the COMMIT: the transaction may or may not "
                    "have been stored"
                ) from exc

    def dispose(self) -> None:
        self.engine.dispose()


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def keep_private(database: Path) -> None:
    """The SQLite file (patient data, sessions, the audit trail) readable by this user alone:
    created 0600 before SQLite opens it, so that its WAL and shared-memory files, which SQLite
    creates with the database's own mode, are 0600 too; a folder it has to create, 0700.
    Files an earlier version left readable to others are tightened."""
    database.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if path.stat().st_mode & 0o077:
                path.chmod(PRIVATE_FILE)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; SQLAlchemy's begin event does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class _WriteTurn:
    """This process's queue for SQLite's single writer: a lock with the busy timeout, so that
    a writer that hangs makes the others fail after the same wait SQLite would give them."""

    def __init__(self, timeout: float) -> None:
        self._lock = threading.RLock()
        self._timeout = timeout

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self._timeout):
            raise DatabaseBusy("the database stayed busy: another write did not finish in time")

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()
