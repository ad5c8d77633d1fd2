"""The ``pointcare`` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pointcare.auth.tokens import read_api_token
from pointcare.db.models import Patient, User
from pointcare.runtime import build_runtime
from pointcare.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.server import free_port

Pointcare = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def pointcare(tmp_path: Path, database_url: str) -> Pointcare:
    """``pointcare(*args, stdin="")`` runs the command on this test's data dir and database."""

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_pointcare(tmp_path, database_url, *args, stdin=stdin)

    return run


def run_pointcare(
    data_dir: Path, database_url: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(data_dir),
        "POINTCARE_DATABASE_URL": database_url,
        "POINTCARE_SECRET_KEY": TEST_SECRET,  # the tests' own: one audit key for both
    }
    return subprocess.run(
        [sys.executable, "-m", "pointcare", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_add_user_then_mint_a_token(pointcare: Pointcare, tmp_path: Path) -> None:
    added = pointcare("users", "add", "nora", "--role", "photographer", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert "nora" in added.stdout
    minted = pointcare("token", "--user", "nora", "--ttl", "60")
    assert minted.returncode == 0, minted.stderr
    read = read_api_token(minted.stdout.strip(), secret_key=TEST_SECRET, max_ttl_seconds=3600)
    assert read.user_id > 0 and read.generation == 0
    too_long = pointcare("token", "--user", "nora", "--ttl", "86400")
    assert too_long.returncode == 2
    assert "between 1 and 3600 seconds" in too_long.stderr
    assert too_long.stdout == ""


def test_users_add_refuses_short_passwords_and_duplicates(pointcare: Pointcare) -> None:
    short = pointcare("users", "add", "nora", "--role", "clinician", stdin="short\n")
    assert short.returncode == 1
    assert "at least" in short.stderr
    assert (
        pointcare(
            "users", "add", "nora", "--role", "clinician", stdin="long-enough-pw\n"
        ).returncode
        == 0
    )
    again = pointcare("users", "add", "nora", "--role", "clinician", stdin="long-enough-pw\n")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_token_for_an_unknown_user_fails(pointcare: Pointcare) -> None:
    result = pointcare("token", "--user", "ghost")
    assert result.returncode == 1
    assert "ghost" in result.stderr


def test_patient_import_all_or_nothing(pointcare: Pointcare, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "mrn,family_name,given_name,birth_date,sex,visit_number\n"
        "X1,Ångström,Zoë,1971-02-03,F,V1\n"
        "X2,O'Brien,Seán,1980-12-24,M,\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "mrn,family_name,given_name,birth_date,sex\n"
        "Y1,Good,Row,1970-01-01,F\n"
        "Y2,Bad,Date,1970-13-01,M\n",
        encoding="utf-8",
    )
    failed = pointcare("patients", "import", str(bad))
    assert failed.returncode == 1
    assert "line 3" in failed.stderr
    imported = pointcare("patients", "import", str(good))
    assert imported.returncode == 0, imported.stderr
    assert "2 new" in imported.stdout


@pytest.mark.parametrize("value", ["not-a-number", "-5"])
def test_bad_settings_are_reported_not_raised(tmp_path: Path, value: str) -> None:
    env = {**os.environ, "POINTCARE_DATA_DIR": str(tmp_path), "POINTCARE_MAX_UPLOAD_BYTES": value}
    result = subprocess.run(
        [sys.executable, "-m", "pointcare", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "POINTCARE_MAX_UPLOAD_BYTES" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_is_refused_on_a_database_with_real_users(
    pointcare: Pointcare, tmp_path: Path, database_url: str
) -> None:
    added = pointcare("users", "add", "ward-admin", "--role", "admin", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    served = pointcare("serve", "--demo", "--port", str(free_port()))
    assert served.returncode == 2
    assert "refusing --demo" in served.stderr
    assert "nurse-demo-pass" not in served.stdout + served.stderr
    runtime = build_runtime(
        Settings.from_env(data_dir=tmp_path, database_url=database_url, secret_key=TEST_SECRET)
    )
    try:
        with runtime.db.session() as session:
            names = set(session.scalars(select(User.username)))
            patients = session.scalar(select(func.count(Patient.id)))
    finally:
        runtime.close()
    assert names == {"ward-admin"}  # no account with a published password was added
    assert patients == 0
