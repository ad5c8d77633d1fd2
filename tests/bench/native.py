"""Does each library Pointcare calls through ctypes earn its place? Measured in one run.

For each kind of photo whose normalisation takes a native path (libjpeg-turbo's lossless turn;
libheif's decode as stored, LittleCMS on libheif's buffer and re-encoding through YCbCr planes
were measured here too, and removed), the same
``normalise_photo`` runs with native code on and off (``native.use_native_code``), the two
interleaved round by round so that the machine's drift falls on both alike. A path is kept
only where it takes at most 80 % of the time of Pillow and pillow-heif alone (a gain of at
least 20 %), both in the time the nurse waits for one photo (wall clock, the fastest round: a
busy machine only ever adds to it) and in the CPU time the server spends on it (this process,
its pool's threads included; median), which bounds how many photos it takes at once.

    python -m tests.bench.native [--rounds N]      # writes var/bench/native.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pointcare.imaging import native, turbojpeg
from pointcare.imaging.photo import normalise_photo
from tests.bench.harness import make_photos

KEEP_BELOW = 0.8
"""A native path is kept when it takes at most this share of the library-only time."""
OUT = Path("var/bench/native.json")
MAX_PIXELS = 50_000_000


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run of ``work``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(photo: bytes, rounds: int) -> dict[str, Any]:
    """Native on and off, interleaved: times, ratios, and which path each took."""
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []

    def normalise() -> object:
        return normalise_photo(photo, max_pixels=MAX_PIXELS)

    for _ in range(rounds):
        for enabled, times in ((True, on), (False, off)):
            native.use_native_code(enabled)
            times.append(timed(normalise))
    native.use_native_code(True)
    with_native = normalise_photo(photo, max_pixels=MAX_PIXELS)
    native.use_native_code(False)
    without = normalise_photo(photo, max_pixels=MAX_PIXELS)
    native.use_native_code(True)
    wall_ratio = min(w for w, _ in on) / min(w for w, _ in off)
    cpu_ratio = statistics.median(c for _, c in on) / statistics.median(c for _, c in off)
    return {
        "native_ms": _figures(on),
        "library_ms": _figures(off),
        "wall_ratio": wall_ratio,
        "cpu_ratio": cpu_ratio,
        "kept": wall_ratio <= KEEP_BELOW and cpu_ratio <= KEEP_BELOW,
        "native_kept_the_photo_s_own_jpeg": not with_native.reencoded,
        "library_kept_the_photo_s_own_jpeg": not without.reencoded,
    }


def _figures(times: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [w * 1000 for w, _ in times], [c * 1000 for _, c in times]
    return {
        "wall_min": min(walls),
        "wall_median": statistics.median(walls),
        "cpu_median": statistics.median(cpus),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    photos = make_photos(Path("var/bench/photos"))
    cases = {
        # libjpeg-turbo: the blocks turned, or (off) a decode and re-encode through Pillow.
        "turbojpeg lossless turn (12 MP JPEG, EXIF 6)": photos.rotated,
    }
    available = {"turbojpeg": turbojpeg.available()}
    results = {name: measure(photo, args.rounds) for name, photo in cases.items()}
    report = {"rounds": args.rounds, "available": available, "paths": results}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(
        f"{'path':56} {'wall ms native/library':>23} {'ratio':>6} "
        f"{'CPU ms native/library':>22} {'ratio':>6}  verdict"
    )
    for name, result in results.items():
        verdict = "keep" if result["kept"] else "remove (< 20 % gain)"
        mine, theirs = result["native_ms"], result["library_ms"]
        print(
            f"{name:56} {mine['wall_min']:11.0f}/{theirs['wall_min']:<11.0f} "
            f"{result['wall_ratio']:6.2f} {mine['cpu_median']:10.0f}/{theirs['cpu_median']:<11.0f} "
            f"{result['cpu_ratio']:6.2f}  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
