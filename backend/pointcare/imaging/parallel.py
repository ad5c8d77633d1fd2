"""Split one photo's image work across the cores, for the steps whose library lets go of the
interpreter lock while it runs (LittleCMS, Pillow's transposes and decoders, libjpeg-turbo).

A single upload at the bedside then takes less time from tap to tick. Under load nothing is
gained or lost: the total work is the same, and the pool is bounded to one thread per core.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

Part = TypeVar("Part")
Result = TypeVar("Result")
Other = TypeVar("Other")

WORKERS = os.cpu_count() or 1
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="photo-part")


def map_parts(function: Callable[[Part], Result], parts: Iterable[Part]) -> list[Result]:
    """``function`` applied to each part, on the pool; the results in the parts' order.

    The caller must not itself run on this pool (no part may split again), or the pool could
    wait on itself."""
    return list(_pool.map(function, parts))


def side_by_side(first: Callable[[], Result], second: Callable[[], Other]) -> tuple[Result, Other]:
    """``first()`` on the pool while ``second()`` runs in the calling thread; both results.

    When either raises, its exception is raised once ``first()`` has finished too: work left
    running would escape the bound the callers' own slots put on it. The caller must not itself
    run on this pool (see :func:`map_parts`)."""
    pending = _pool.submit(first)
    try:
        other = second()
    finally:
        wait([pending])
    return pending.result(), other


def row_bands(width: int, height: int, min_pixels: int) -> list[tuple[int, int]]:
    """Rows ``(start, stop)`` of horizontal bands to convert side by side: one per worker at
    most, and none smaller than ``min_pixels`` (below that a thread costs more than it saves)."""
    bands = max(1, min(WORKERS, width * height // min_pixels))
    edges = [height * i // bands for i in range(bands + 1)]
    return list(itertools.pairwise(edges))
