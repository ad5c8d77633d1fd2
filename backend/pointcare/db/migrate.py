"""Apply Alembic migrations programmatically (on start, and from the CLI)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


MIGRATION_LOCK = 0x706F696E74636172
"""PostgreSQL advisory lock key held while migrating ("pointcar" in ASCII)."""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, on the engine's own connection.

    Several processes may start at once on one database (app nodes, workers): one migrates, the
    others wait for it, then find the schema at the newest revision and do nothing. PostgreSQL
    queues them on an advisory lock; SQLite on its write lock (``BEGIN IMMEDIATE``).
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
