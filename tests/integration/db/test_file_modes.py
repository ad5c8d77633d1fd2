"""The data folder and the SQLite database hold patient data: the folder is created 0700, the
database and its WAL and shared-memory files 0600 (whatever the umask lets others read)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pointcare import audit
from pointcare.runtime import build_runtime
from pointcare.settings import Settings


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what most servers run with: files 0644, folders 0755
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_and_database_are_private(tmp_path: Path, usual_umask: None) -> None:
    data_dir = tmp_path / "var"
    runtime = build_runtime(Settings.from_env(data_dir=data_dir, database_url=""))
    try:
        with runtime.db.write() as session:  # a write: SQLite opens the WAL and its index
            audit.record(session, audit.AuditEvent(action="login", actor=audit.Actor.system("t")))
        database = data_dir / "pointcare.db"
        assert mode(data_dir) == 0o700
        assert mode(data_dir / "secret_key") == 0o600
        assert mode(database) == 0o600
        assert mode(Path(f"{database}-wal")) == 0o600
        assert mode(Path(f"{database}-shm")) == 0o600
    finally:
        runtime.close()


def test_a_database_left_readable_by_an_earlier_version_is_tightened(
    tmp_path: Path, usual_umask: None
) -> None:
    data_dir = tmp_path / "var"
    first = build_runtime(Settings.from_env(data_dir=data_dir, database_url=""))
    first.close()
    database = data_dir / "pointcare.db"
    database.chmod(0o644)
    build_runtime(Settings.from_env(data_dir=data_dir, database_url="")).close()
    assert mode(database) == 0o600
