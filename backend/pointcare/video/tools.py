"""ffmpeg and ffprobe from the distribution, run with bounded time, memory and priority.

Each run is its own process: a crash or a runaway decode on a crafted file ends that process,
not the server. ``prlimit`` caps its address space and CPU seconds, ``nice`` leaves the cores to
the photos and pages first, and a wall-clock timeout kills it (both wrappers ``exec`` the tool,
so the process the timeout kills is the tool itself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NICENESS = 10
_QUIET = ("-hide_banner", "-v", "error")
_OUT_OF_MEMORY_SIGNS = ("cannot allocate memory", "malloc of size", "failed to map segment")
_STDERR_KEPT = 400
"""Characters of a failed tool's last words kept for the log: errors, never metadata values,
at ``-v error``."""


class ToolMissing(RuntimeError):
    """ffmpeg, ffprobe or a wrapper is not installed (infra/install-system-packages.sh)."""


class ToolFailed(RuntimeError):
    def __init__(self, tool: str, returncode: int, stderr: bytes) -> None:
        self.returncode = returncode
        self.last_words = stderr.decode("utf-8", "replace").strip()[-_STDERR_KEPT:]
        super().__init__(f"{tool} exited with {returncode}: {self.last_words}")

    @property
    def out_of_memory(self) -> bool:
        """The address-space cap stopped it: a library that could not be mapped, an allocation
        that failed (each decoder and encoder words it its own way)."""
        words = self.last_words.lower()
        return any(sign in words for sign in _OUT_OF_MEMORY_SIGNS)


class ToolTimedOut(RuntimeError):
    def __init__(self, tool: str, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"{tool} ran longer than {seconds:g} s and was stopped")


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolLimits:
    timeout_seconds: float
    """Wall-clock time one run may take before it is killed."""
    memory_bytes: int
    """Address space one run may map (RLIMIT_AS): decoders, encoder and their threads."""
    threads: int
    """Threads ffmpeg's decoder, filters and encoder may each use: fixed, so the memory a run
    needs does not grow with the machine's core count."""

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {self.timeout_seconds}")
        if self.memory_bytes < 64 * 1024 * 1024:
            raise ValueError(f"memory_bytes must be at least 64 MiB, got {self.memory_bytes}")
        if self.threads < 1:
            raise ValueError(f"threads must be 1 or more, got {self.threads}")


@dataclass(frozen=True, slots=True)
class VideoTools:
    """Where the executables are; :meth:`find` looks them up on ``PATH``."""

    ffmpeg: str
    ffprobe: str
    prlimit: str
    nice: str

    @classmethod
    def find(cls) -> VideoTools:
        found = {name: shutil.which(name) for name in ("ffmpeg", "ffprobe", "prlimit", "nice")}
        missing = sorted(name for name, path in found.items() if path is None)
        if missing:
            raise ToolMissing(
                f"{', '.join(missing)} not found: install ffmpeg (Debian package ffmpeg) and "
                "util-linux, as infra/install-system-packages.sh does"
            )
        return cls(**{name: str(path) for name, path in found.items()})

    def run_ffmpeg(self, args: Sequence[str], limits: ToolLimits, *, cwd: Path) -> bytes:
        """ffmpeg's standard output; it never reads standard input."""
        return self._run("ffmpeg", [self.ffmpeg, "-nostdin", *_QUIET, *args], limits, cwd)

    def run_ffprobe(self, args: Sequence[str], limits: ToolLimits, *, cwd: Path) -> bytes:
        return self._run("ffprobe", [self.ffprobe, *_QUIET, *args], limits, cwd)

    def _run(self, name: str, command: list[str], limits: ToolLimits, cwd: Path) -> bytes:
        # CPU seconds: a backstop to the timeout, room for decoder and encoder threads alike.
        cpu_seconds = int(limits.timeout_seconds * limits.threads * 2) + 1
        argv = [
            self.prlimit,
            f"--as={limits.memory_bytes}",
            f"--cpu={cpu_seconds}",
            "--",
            self.nice,
            "-n",
            str(NICENESS),
            *command,
        ]
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=limits.timeout_seconds,
                check=False,
                env=_tool_environment(),
            )
        except subprocess.TimeoutExpired:
            raise ToolTimedOut(name, limits.timeout_seconds) from None
        if done.returncode != 0:
            raise ToolFailed(name, done.returncode, done.stderr)
        return done.stdout


def _tool_environment() -> dict[str, str]:
    """Only what the tools need: no proxy or credential variables reach a child that parses
    untrusted files."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
