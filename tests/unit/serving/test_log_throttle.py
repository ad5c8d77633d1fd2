"""One line per cause and interval, and the next line says how many were held back."""

from __future__ import annotations

import pytest

from pointcare.serving.log_throttle import LogThrottle, held_back


def test_lines_of_one_kind_are_held_back_within_the_interval_and_counted() -> None:
    now = [100.0]
    throttle = LogThrottle(60, clock=lambda: now[0])
    assert throttle("db down") == 0
    assert throttle("db down") is None
    assert throttle("disk full") == 0  # another cause is let through at once
    now[0] += 30
    assert throttle("db down") is None
    now[0] += 31
    assert throttle("db down") == 2
    assert held_back(2) == " (2 more like it not logged)"
    assert held_back(0) == ""


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LogThrottle(0)
