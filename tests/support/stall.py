"""Timing a server's other requests while a hostile one runs (the stall tests).

    with LiveServer() as server, HealthProbe(server) as probe:
        ...send the hostile request(s)...
    assert probe.slowest < 1.0

The probe sends ``GET /healthz`` every ``interval`` seconds on fresh connections, from a thread
of its own, and keeps how long each took (a request that times out counts as its timeout).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

from tests.support.server import LiveServer


class HealthProbe:
    def __init__(self, server: LiveServer, *, interval: float = 0.2, timeout: float = 60.0) -> None:
        self.server = server
        self.interval = interval
        self.timeout = timeout
        self.timings: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)

    @property
    def slowest(self) -> float:
        return max(self.timings, default=0.0)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            connection = http.client.HTTPConnection(
                self.server.host, self.server.port, timeout=self.timeout
            )
            try:
                connection.request("GET", "/healthz")
                connection.getresponse().read()
            except OSError:
                pass  # counted as the time it took to fail
            finally:
                connection.close()
            self.timings.append(time.monotonic() - started)
            self._stop.wait(self.interval)


def send_streamed(
    server: LiveServer, head: bytes, body_chunk: bytes, repeat: int, *, timeout: float = 60.0
) -> tuple[int | None, float]:
    """Send ``head`` then ``body_chunk`` ``repeat`` times on a raw socket, stopping as soon as
    the server answers (or closes); the answer's status (None: no answer) and the seconds until
    it came."""
    started = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        pending = memoryview(b"")
        left = repeat
        while left or pending:
            try:
                answer += sock.recv(65536)
                break  # the server answered (or closed: b"") before the body was all sent
            except BlockingIOError:
                pass
            if not pending:
                pending, left = memoryview(body_chunk), left - 1
            try:
                pending = pending[sock.send(pending) :]
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(timeout)
        try:
            while b"\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    elapsed = time.monotonic() - started
    status_line = answer.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) >= 2 and status_line[1].isdigit() else None
    return status, elapsed


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")
