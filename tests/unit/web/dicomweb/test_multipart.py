"""Streamed multipart answers: parts made only in their turn, and never more at once than the
limiter allows, however many answers are sent together."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import compat32

import anyio
import pytest

from pointcare.web.dicomweb.multipart import Part, body_chunks, body_length
from tests.support.loop import run_async


class Made:
    """Producers that count how many of them are making or sending a part at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.started: list[str] = []

    def producer(self, name: str) -> Part:
        def produce() -> Iterator[bytes]:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.started.append(name)
            try:
                time.sleep(0.02)
                yield name.encode() * 3
                time.sleep(0.02)
                yield b"!"
            finally:
                with self.lock:
                    self.now -= 1

        return Part.made_later(produce, "application/octet-stream")


async def collect(parts: list[Part], limiter: anyio.CapacityLimiter) -> bytes:
    return b"".join([chunk async for chunk in body_chunks(parts, "b0undary", limiter)])


@pytest.mark.parametrize("slots", [1, 2])
def test_parts_are_made_one_at_a_time_per_slot(slots: int) -> None:
    made = Made()
    limiter = anyio.CapacityLimiter(slots)

    async def main() -> list[bytes]:
        bodies: list[bytes] = []

        async def answer(prefix: str) -> None:
            parts = [made.producer(f"{prefix}{i}") for i in range(3)]
            bodies.append(await collect(parts, limiter))

        async with anyio.create_task_group() as group:
            for prefix in "abcd":
                group.start_soon(answer, prefix)
        return bodies

    bodies = run_async(main)
    assert made.most == slots
    assert len(made.started) == 12
    for body in bodies:
        message = BytesParser(policy=compat32).parsebytes(
            b"Content-Type: multipart/related; boundary=b0undary\r\n\r\n" + body
        )
        payloads = [part.get_payload(decode=True) for part in message.get_payload()]
        assert len(payloads) == 3
        assert all(p.endswith(b"!") for p in payloads)


def test_the_length_is_known_only_when_nothing_is_made_on_the_way() -> None:
    stored = [Part.from_bytes(b"abc", "x/y"), Part.from_bytes(b"defg", "x/y")]
    length = body_length(stored, "b0undary")
    body = run_async(collect, stored, anyio.CapacityLimiter(1))
    assert length == len(body)
    assert body_length([*stored, Made().producer("z")], "b0undary") is None
