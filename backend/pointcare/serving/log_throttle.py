"""One log line per cause and interval: an outage must not bury the log in identical lines.

A database that is down fails every request, and a listener out of file descriptors fails every
accept; each of those lines says nothing the first one did not. ``LogThrottle`` lets the first
line of each kind through, holds back the others for ``interval`` seconds, and the next line it
lets through says how many it held back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LogThrottle:
    def __init__(self, interval: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("a log throttle needs a positive interval")
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, key: str) -> int | None:
        """None: do not log this line; else log it, saying the number of lines held back
        since the previous one of this ``key``."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)


def held_back(count: int) -> str:
    """The suffix of a line that was let through after others were held back."""
    return f" ({count} more like it not logged)" if count else ""
