"""``pointcare adt-listen`` as a process of its own, for tests and fault experiments.

    with adt_listen(database_url, folder, file_limit=64) as (address, log):
        ...                                  # address: ("127.0.0.1", port); log: its output

``file_limit`` gives the process that many file descriptors (``RLIMIT_NOFILE``), as a systemd
unit's ``LimitNOFILE`` would; ``env`` adds POINTCARE_* settings.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tests.support.server import free_port

Address = tuple[str, int]


@contextlib.contextmanager
def adt_listen(
    database_url: str,
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    file_limit: int | None = None,
    args: Sequence[str] = (),
) -> Iterator[tuple[Address, Path]]:
    port = free_port()
    environment = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(folder / "var"),
        "POINTCARE_DATABASE_URL": database_url,
        **(env or {}),
    }

    def limit_files() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (file_limit, file_limit))

    log = folder / "adt-listen.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pointcare", "adt-listen", "--port", str(port), *args],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_files,  # in the child, before it runs Pointcare
        )
    address = ("127.0.0.1", port)
    try:
        _wait_for_port(address, process)
        yield address, log
    finally:
        process.terminate()
        process.wait(timeout=60)


def _wait_for_port(address: Address, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pointcare adt-listen exited with {process.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection(address, timeout=1).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {address}")
