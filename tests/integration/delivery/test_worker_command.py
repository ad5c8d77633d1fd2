"""``pointcare worker`` refuses to run when there is no PACS to deliver to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_worker_needs_a_pacs(tmp_path: Path) -> None:
    env = {**os.environ, "POINTCARE_DATA_DIR": str(tmp_path), "POINTCARE_ARCHIVE": "builtin"}
    result = subprocess.run(
        [sys.executable, "-m", "pointcare", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "set POINTCARE_ARCHIVE=dicomweb and POINTCARE_DICOMWEB_URL" in result.stderr
