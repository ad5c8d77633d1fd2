"""A small filesystem of its own (tmpfs) for full-disk tests, and a way to fill it.

    with small_filesystem(megabytes=16) as root:
        filler = fill(root)          # no byte left
        filler.unlink()              # room again

Mounting needs root (or CAP_SYS_ADMIN): where the machine refuses, the test that asked is
skipped with the reason, and the full disk is still tested by the simulated ENOSPC tests.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHUNK = 64 * 1024


@contextlib.contextmanager
def small_filesystem(*, megabytes: int) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pointcare-small-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        root.rmdir()
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "--lazy", str(root)], capture_output=True, check=False)
        root.rmdir()


def fill(root: Path) -> Path:
    """Take every free byte of the filesystem at ``root`` with one file; its path."""
    filler = root / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (CHUNK, 4096, 1):  # then the last partial blocks
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler
