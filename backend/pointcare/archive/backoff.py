"""When to try a failed delivery again: exponential backoff with jitter, and when to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int
    """Failed attempts after which a delivery is parked."""
    base_seconds: float
    """Wait after the first failure; doubled after each further one."""
    cap_seconds: float
    """Longest wait."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not (0 < self.base_seconds <= self.cap_seconds):
            raise ValueError("base_seconds must be positive and at most cap_seconds")

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """The wait after the ``attempts``-th failure: between half and all of
        ``base * 2**(attempts-1)`` (capped), so that forwarders which failed together (the PACS
        was down for all of them) do not all come back in the same second."""
        exponent = min(max(attempts - 1, 0), 32)
        ceiling = min(self.cap_seconds, self.base_seconds * 2**exponent)
        fraction = (rng or random).uniform(0.5, 1.0)  # jitter, not security
        return timedelta(seconds=ceiling * fraction)
