"""``multipart/related`` answers (RFC 2387, PS3.18 8.7.3.1), streamed part by part.

Stored files are read in chunks while the answer is sent, so retrieving a whole study never
holds more than one chunk in memory. A part that must be made (a transcoded object, a decoded
frame, a rendering) is made only when its turn comes, in a worker thread, holding one slot of
a limiter while it is made and sent: at most that many decoded frames exist at once, however
many answers are being sent.

When every part's size is known before the first byte (files and bytes as stored) the answer
carries an exact Content-Length, and a file missing from the archive fails the request cleanly
instead of truncating it half-way; answers with parts made on the way are sent chunked.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
from litestar.response import Stream

from pointcare.web.dicomweb.media import MULTIPART_RELATED

CHUNK_SIZE = 256 * 1024
CRLF = b"\r\n"

Producer = Callable[[], Iterable[bytes]]
"""Makes a part's content when it is sent (blocking work: run in a worker thread)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One body part: its content type, and a stored file, bytes in memory, or a producer."""

    content_type: str
    size: int | None
    path: Path | None = None
    data: bytes = b""
    produce: Producer | None = None

    @classmethod
    def from_file(cls, path: Path, content_type: str) -> Part:
        return cls(content_type=content_type, size=path.stat().st_size, path=path)

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str) -> Part:
        return cls(content_type=content_type, size=len(data), data=data)

    @classmethod
    def made_later(cls, produce: Producer, content_type: str) -> Part:
        return cls(content_type=content_type, size=None, produce=produce)

    def file_chunks(self) -> Iterator[bytes]:
        if self.path is None:
            yield self.data
            return
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk


def _part_head(part: Part, boundary: str, *, first: bool) -> bytes:
    length = "" if part.size is None else f"Content-Length: {part.size}\r\n"
    head = f"--{boundary}\r\nContent-Type: {part.content_type}\r\n{length}\r\n".encode("ascii")
    return head if first else CRLF + head


def _closing(boundary: str) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode("ascii")


def body_length(parts: Sequence[Part], boundary: str) -> int | None:
    """The exact length of the body, or None when a part's size is only known once made."""
    sizes = [part.size for part in parts]
    if any(size is None for size in sizes):
        return None
    heads = sum(len(_part_head(part, boundary, first=i == 0)) for i, part in enumerate(parts))
    return heads + sum(size or 0 for size in sizes) + len(_closing(boundary))


async def _drain(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each chunk of a blocking iterator, taken in a worker thread."""
    while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
        yield chunk


def _started(produce: Producer) -> Iterator[bytes]:
    return iter(produce())


async def _content(part: Part, limiter: anyio.CapacityLimiter) -> AsyncIterator[bytes]:
    if part.produce is None:
        async for chunk in _drain(part.file_chunks()):
            yield chunk
        return
    async with limiter:  # held until the part is sent: bounds the decoded frames in memory
        made = await anyio.to_thread.run_sync(_started, part.produce)
        async for chunk in _drain(made):
            yield chunk


async def body_chunks(
    parts: Sequence[Part], boundary: str, limiter: anyio.CapacityLimiter
) -> AsyncIterator[bytes]:
    for index, part in enumerate(parts):
        yield _part_head(part, boundary, first=index == 0)
        async for chunk in _content(part, limiter):
            yield chunk
    yield _closing(boundary)


def multipart_response(
    parts: Sequence[Part], *, part_type: str, limiter: anyio.CapacityLimiter
) -> Stream:
    """A streamed ``multipart/related; type=part_type`` answer holding ``parts`` in order;
    ``limiter`` bounds how many parts are being made at once, across all answers."""
    boundary = secrets.token_hex(16)
    length = body_length(parts, boundary)
    return Stream(
        body_chunks(parts, boundary, limiter),
        media_type=f'{MULTIPART_RELATED}; type="{part_type}"; boundary={boundary}',
        headers={} if length is None else {"Content-Length": str(length)},
    )


def single_part_response(part: Part, *, limiter: anyio.CapacityLimiter) -> Stream:
    """``part`` on its own, as the whole answer (a single instance, frame or document)."""
    headers = {} if part.size is None else {"Content-Length": str(part.size)}
    return Stream(_content(part, limiter), media_type=part.content_type, headers=headers)


def parts_response(
    parts: Sequence[Part], *, multipart: bool, part_type: str, limiter: anyio.CapacityLimiter
) -> Stream:
    """``parts`` as a ``multipart/related`` answer, or the one part alone."""
    if multipart:
        return multipart_response(parts, part_type=part_type, limiter=limiter)
    [part] = parts
    return single_part_response(part, limiter=limiter)
