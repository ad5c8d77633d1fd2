"""A non-editable install carries everything the app reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.tools import REPO_ROOT


@pytest.mark.slow
def test_the_wheel_ships_templates_static_files_and_migrations(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("pointcare-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "pointcare/pwa/templates/base.html",
        "pointcare/pwa/templates/pages/capture.html",
        "pointcare/pwa/static/css/app.css",
        "pointcare/db/migrations/env.py",
        "pointcare/db/migrations/script.py.mako",
    }
    for migration in (REPO_ROOT / "backend/pointcare/db/migrations/versions").glob("*.py"):
        expected.add(f"pointcare/db/migrations/versions/{migration.name}")
    assert expected <= names, sorted(expected - names)
