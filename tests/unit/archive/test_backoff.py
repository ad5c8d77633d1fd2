from __future__ import annotations

import random
from datetime import timedelta

import pytest

from pointcare.archive.backoff import RetryPolicy

POLICY = RetryPolicy(max_attempts=5, base_seconds=10, cap_seconds=60)


@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 10), (2, 20), (3, 40), (4, 60), (40, 60)])
def test_the_wait_doubles_up_to_the_cap_with_jitter(attempts: int, ceiling: float) -> None:
    rng = random.Random(7)
    waits = [POLICY.delay(attempts, rng) for _ in range(200)]
    assert all(timedelta(seconds=ceiling / 2) <= w <= timedelta(seconds=ceiling) for w in waits)
    assert len(set(waits)) > 100  # spread out, not in lock step


def test_it_gives_up_after_the_last_attempt() -> None:
    assert not POLICY.gives_up_after(4)
    assert POLICY.gives_up_after(5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0, "base_seconds": 1, "cap_seconds": 2},
        {"max_attempts": 1, "base_seconds": 0, "cap_seconds": 2},
        {"max_attempts": 1, "base_seconds": 3, "cap_seconds": 2},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
