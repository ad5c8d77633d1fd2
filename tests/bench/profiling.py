"""py-spy profiles of the processes a scenario times (``--profile``).

``Profile.of(bench, name, pid)`` samples ``pid`` (all its threads, idle ones left out) while
the body runs, writes the collapsed stacks to ``var/bench/profiles/NAME.txt`` (open them with
speedscope or flamegraph.pl) and adds the top entries by own time to
``bench.results["profiles"][NAME]``. Without ``--profile`` it does nothing.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench.harness import OUT_DIR

PROFILE_DIR = OUT_DIR / "profiles"
RATE = 200
TOP = 12


class Profile:
    @staticmethod
    @contextmanager
    def of(bench: Any, name: str | None, pid: int, *, gil: bool = False) -> Iterator[None]:
        """With ``gil``, only the samples of the thread holding the interpreter lock: where
        the Python code's CPU goes (the image decoders run without it)."""
        if name is None or not bench.config.profile:
            yield
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        output = PROFILE_DIR / f"{name}.txt"
        recorder = subprocess.Popen(
            [
                *(py_spy, "record", "--pid", str(pid), "--rate", str(RATE)),
                *("--format", "raw", "--output", str(output), "--nonblocking"),
                *(["--gil"] if gil else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=120)
        if output.exists():
            bench.results.setdefault("profiles", {})[name] = {
                **top_entries(output),
                "samples_of": "the thread holding the interpreter lock"
                if gil
                else "all busy threads",
            }
            bench.log(f"  profile of {name}: {output}")


def top_entries(collapsed: Path) -> dict[str, Any]:
    """The functions with the most samples on top of the stack (own time), and those with the
    most samples anywhere in it (inclusive), as shares of all samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if frame]
        if not frames:
            continue
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "own_percent": {frame: share(n) for frame, n in own.most_common(TOP)},
        "inclusive_percent": {frame: share(n) for frame, n in inclusive.most_common(TOP * 2)},
    }


def _short(frame: str) -> str:
    """``function (path/to/module.py:123)`` without the line number and the path's prefix."""
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "backend/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{function} ({path})"


def markdown(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, profile in sorted(results.get("profiles", {}).items()):
        lines += [
            f"#### Profile `{name}` (py-spy, {profile['samples']} samples of "
            f"{profile.get('samples_of', 'all busy threads')})",
            "",
            "Top by own time: "
            + "; ".join(f"{frame} {share} %" for frame, share in profile["own_percent"].items()),
            "",
        ]
    return lines
