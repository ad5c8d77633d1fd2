"""Splitting one photo's work across the cores."""

from __future__ import annotations

import threading
import time

import pytest

from pointcare.imaging import parallel


def test_side_by_side_runs_the_first_on_the_pool_and_the_second_here() -> None:
    here = threading.get_ident()
    started = threading.Event()

    def first() -> int:
        started.set()
        return threading.get_ident()

    def second() -> str:
        # Waits for the first to start: had they run one after the other, it never would.
        assert started.wait(timeout=10)
        return "here"

    pool_thread, answer = parallel.side_by_side(first, second)

    assert pool_thread != here
    assert answer == "here"


def test_side_by_side_raises_what_either_raises_once_both_have_finished() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    def fails() -> None:
        raise ValueError("damaged")

    with pytest.raises(ValueError, match="damaged"):
        parallel.side_by_side(slow, fails)
    assert finished.is_set()
    with pytest.raises(ValueError, match="damaged"):
        parallel.side_by_side(fails, lambda: 1)
