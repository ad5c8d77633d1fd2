"""A guessable ``POINTCARE_SECRET_KEY`` stops ``pointcare serve`` before it listens: with the key
``x``, anyone could sign an admin's API token themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import free_port


@pytest.mark.parametrize("key", ["x", "CHANGE-ME-the-same-long-random-value-on-every-node"])
def test_serve_refuses_a_guessable_secret_key(tmp_path: Path, key: str) -> None:
    port = free_port()
    env = {**os.environ, "POINTCARE_DATA_DIR": str(tmp_path), "POINTCARE_SECRET_KEY": key}
    served = subprocess.run(
        [sys.executable, "-m", "pointcare", "serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 2
    assert "bad setting: POINTCARE_SECRET_KEY" in served.stderr
    assert "Uvicorn running" not in served.stderr
