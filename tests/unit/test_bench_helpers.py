"""The benchmark's measuring helpers (the benchmark itself is ``make bench``, not a test)."""

from __future__ import annotations

import os
import time

from tests.bench.harness import Run, combine, cpu_seconds, with_cpu


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_counts_what_the_process_spent() -> None:
    before = cpu_seconds(os.getpid())
    _burn(0.3)
    assert cpu_seconds(os.getpid()) - before >= 0.25


def test_cpu_per_photo_divides_by_the_photos_answered() -> None:
    def timed() -> Run:
        _burn(0.2)
        return Run(clients=1, latencies=[0.01] * 4, errors=["HTTP 500: not counted"])

    run, extra = with_cpu(os.getpid(), timed)

    assert run.ok == 4
    assert 45 <= extra["server_cpu_ms_per_photo"] <= 80
    combined = combine([run], [extra])
    assert combined["server_cpu_ms_per_photo"]["median"] == extra["server_cpu_ms_per_photo"]


def test_no_cpu_figure_without_a_process() -> None:
    run, extra = with_cpu(None, lambda: Run(clients=1, latencies=[0.01]))

    assert run.ok == 1
    assert extra == {}
