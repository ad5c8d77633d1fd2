"""A private PostgreSQL cluster for the tests, started through ``infra/postgres.sh``.

One cluster per pytest process: each xdist worker starts its own (about 1 s, in parallel with
the other workers) on a free loopback port, in a ``tempfile.mkdtemp()`` folder the ``postgres``
user can reach, and stops and removes it at the end of the session. A shared cluster would need
a lock and a last-one-out rule to stop it; a second one costs one more second.

At start, the schema is migrated with Alembic into a template database, so every run applies the
migrations to PostgreSQL (once per worker). Each test then gets a database of its own, copied
from that template (``CREATE DATABASE ... TEMPLATE``, about 40 ms against some 300 ms for
migrating an empty one), and dropped after the test.

A pytest process killed outright (SIGKILL) cannot stop its cluster: look for ``postgres -D
/tmp/pointcare-pg-*`` and stop it with ``infra/postgres.sh stop DIR``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from tests.support.server import free_port
from tests.support.tools import REPO_ROOT

SCRIPT = REPO_ROOT / "infra" / "postgres.sh"
TEMPLATE = "pointcare_migrated"
"""The database that holds the migrated, empty schema every test database is copied from."""
START_ATTEMPTS = 3
"""A free port can be taken between choosing it and the server binding it: try another."""


def postgres_installed() -> bool:
    """Whether the PostgreSQL server programs are on this machine (as ``postgres.sh`` looks)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"], "pg_ctl").exists()
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or bool(shutil.which("pg_config"))


@dataclass
class PostgresCluster:
    directory: Path
    url: str
    """SQLAlchemy URL of the cluster's own ``pointcare`` database (the superuser connects there)."""
    _names: Iterator[int] = field(default_factory=itertools.count)
    _engine: Engine | None = None

    @classmethod
    def start(cls) -> PostgresCluster:
        """Create and start a cluster; raises ``RuntimeError`` with the script's message."""
        # mkdtemp itself, not a folder inside it: the postgres user must reach DIR (see infra/).
        directory = Path(tempfile.mkdtemp(prefix="pointcare-pg-"))
        failure = ""
        for _attempt in range(START_ATTEMPTS):
            result = subprocess.run(
                [str(SCRIPT), "start", str(directory), str(free_port())],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if result.returncode == 0:
                cluster = cls(directory, result.stdout.strip())
                try:
                    cluster._create_template()
                except BaseException:
                    cluster.stop()
                    raise
                return cluster
            failure = result.stderr.strip()
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"infra/postgres.sh could not start PostgreSQL: {failure}")

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        subprocess.run(
            [str(SCRIPT), "stop", str(self.directory)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server (fast shutdown: open connections are cut) and keep its data."""
        self._script("stop")

    def resume(self) -> None:
        """Start a halted server again, on its port (the URLs stay valid)."""
        self._script("start", (self.directory / "port").read_text().strip())

    def _script(self, action: str, *more: str) -> None:
        result = subprocess.run(
            [str(SCRIPT), action, str(self.directory), *more],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"infra/postgres.sh {action} failed: {result.stderr.strip()}")

    def url_of(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    @contextlib.contextmanager
    def database(self, *, migrated: bool = True) -> Iterator[str]:
        """A new database (the migrated schema, or empty), dropped on exit; yields its URL.

        The drop forces out connections a test left open, so one leak cannot fail the next test.
        """
        name = f"test_{next(self._names)}"
        template = f" TEMPLATE {TEMPLATE}" if migrated else ""
        self._admin(f"CREATE DATABASE {name}{template}")
        try:
            yield self.url_of(name)
        finally:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _create_template(self) -> None:
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        database = Database(self.url_of(TEMPLATE))
        try:
            upgrade(database.engine)
        finally:
            database.dispose()  # a template must have no connections when it is copied

    def _admin(self, statement: str) -> None:
        if self._engine is None:
            # CREATE/DROP DATABASE cannot run inside a transaction: autocommit.
            self._engine = create_engine(
                self.url_of("postgres"), isolation_level="AUTOCOMMIT", pool_pre_ping=True
            )
        with self._engine.connect() as connection:
            connection.execute(text(statement))


__all__ = ["TEMPLATE", "PostgresCluster", "postgres_installed"]
