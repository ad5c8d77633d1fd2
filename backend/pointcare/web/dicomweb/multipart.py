"""``multipart/related`` answers (RFC 2387, PS3.18 8.7.3.1), streamed part by part.

Stored files are read in chunks while the answer is sent, so retrieving a whole study never
holds more than one chunk in memory. Sizes are taken before the first byte is sent: the answer
carries an exact Content-Length, and a file missing from the archive fails the request cleanly
instead of truncating it half-way.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from litestar.response import Stream

from pointcare.web.dicomweb.media import MULTIPART_RELATED

CHUNK_SIZE = 256 * 1024
CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class Part:
    """One body part: its content type and either a stored file or bytes in memory."""

    content_type: str
    size: int
    path: Path | None = None
    data: bytes = b""

    @classmethod
    def from_file(cls, path: Path, content_type: str) -> Part:
        return cls(content_type=content_type, size=path.stat().st_size, path=path)

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str) -> Part:
        return cls(content_type=content_type, size=len(data), data=data)

    def chunks(self) -> Iterator[bytes]:
        if self.path is None:
            yield self.data
            return
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk


def _part_head(part: Part, boundary: str, *, first: bool) -> bytes:
    head = (
        f"--{boundary}\r\nContent-Type: {part.content_type}\r\nContent-Length: {part.size}\r\n\r\n"
    ).encode("ascii")
    return head if first else CRLF + head


def _closing(boundary: str) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode("ascii")


def body_length(parts: Sequence[Part], boundary: str) -> int:
    heads = sum(len(_part_head(part, boundary, first=i == 0)) for i, part in enumerate(parts))
    return heads + sum(part.size for part in parts) + len(_closing(boundary))


def body_chunks(parts: Sequence[Part], boundary: str) -> Iterator[bytes]:
    for index, part in enumerate(parts):
        yield _part_head(part, boundary, first=index == 0)
        yield from part.chunks()
    yield _closing(boundary)


def multipart_response(parts: Sequence[Part], *, part_type: str) -> Stream:
    """A streamed ``multipart/related; type=part_type`` answer holding ``parts`` in order."""
    boundary = secrets.token_hex(16)
    return Stream(
        body_chunks(parts, boundary),
        media_type=f'{MULTIPART_RELATED}; type="{part_type}"; boundary={boundary}',
        headers={"Content-Length": str(body_length(parts, boundary))},
    )
