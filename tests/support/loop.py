"""Running a coroutine, or anything with an event loop of its own, from a synchronous test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def in_own_thread(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a thread of its own: a pytest worker that ran a browser test keeps
    Playwright's event loop in its main thread, where a second loop (``anyio.run``, another
    Playwright) cannot start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args).result()


def run_async(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``anyio.run(func, *args)`` in a thread of its own (see ``in_own_thread``)."""
    return in_own_thread(anyio.run, func, *args)
