"""Apply Alembic migrations programmatically (on start, and from the CLI)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


MIGRATION_LOCK = 0x706F696E74636172
"""PostgreSQL advisory lock key held while migrating ("pointcar" in ASCII)."""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, on the engine's own connection."""
    migrate(engine, "upgrade", "head")


def migrate(engine: Engine, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade REVISION`` on the engine's own connection.

    Several processes may start at once on one database (app nodes, workers): one migrates, the
    others wait for it, then find the schema at the newest revision and do nothing. PostgreSQL
    queues them on an advisory lock; SQLite on its write lock (``BEGIN IMMEDIATE``).

    SQLite changes a column by copying its table into a new one; with foreign keys enforced,
    dropping the old table would first delete its rows, cascading into the tables that refer to
    it. Its migrations therefore run with enforcement off (switched outside the transaction, the
    only place SQLite takes it), and every reference is checked before they commit.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _enforce_foreign_keys(connection, False)
        try:
            with connection.execution_options(sqlite_begin="IMMEDIATE").begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                getattr(command, action)(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left broken references: {broken[:5]}")
        finally:
            if sqlite:
                _enforce_foreign_keys(connection, True)


def _enforce_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite's enforcement on the driver's connection, outside any transaction."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()
