"""The Alembic migrations, on each database backend: up from nothing, down, up again, on data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from pointcare.db.engine import Database
from pointcare.db.migrate import alembic_config
from pointcare.db.models import Base


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    database = Database(empty_database_url)
    yield database.engine
    database.dispose()


def migrate(engine: Engine, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade REVISION`` on the engine, as pointcare.db.migrate does."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_there_is_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_the_migrated_schema_is_the_models(engine: Engine) -> None:
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []


def test_down_to_nothing_and_up_again(engine: Engine) -> None:
    migrate(engine, "upgrade", "head")
    migrate(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []


def test_the_patient_merge_columns_are_added_to_a_directory_with_patients(engine: Engine) -> None:
    migrate(engine, "upgrade", "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patients (mrn, issuer, family_name, given_name, name_key, birth_date,"
                " sex, created_at, updated_at) VALUES ('X1', 'HOSP', 'Öberg', 'Åsa', 'oberg asa',"
                " :born, 'F', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"born": date(1957, 3, 14)},
        )
    migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT mrn, family_name, merged_into_id, merged_at FROM patients")
        ).one()
    assert tuple(row) == ("X1", "Öberg", None, None)
    assert differences(engine) == []


def test_processes_that_start_together_migrate_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    # As app nodes and workers started at the same time on one empty database.
    env = {**os.environ, "POINTCARE_DATABASE_URL": empty_database_url}
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "pointcare", "migrate"],
            env={**env, "POINTCARE_DATA_DIR": str(tmp_path / f"node{n}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0], outputs
    database = Database(empty_database_url)
    try:
        assert differences(database.engine) == []
    finally:
        database.dispose()
