"""A stored video clip played in the browser: WADO-RS rendered as ``video/mp4``, with ranges.

A ``<video>`` element asks for the clip in byte ranges (``Range: bytes=0-``, then where the
player seeks), so the answer is ``206 Partial Content`` for one range (RFC 9110 14), read
straight from the archived Part 10 file at the MP4's offset (``dicom.video.stored_clip_span``):
a minute of video is never read whole to send a few kilobytes of it. Several ranges in one
request are answered with the whole clip, which RFC 9110 allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from litestar.exceptions import HTTPException
from litestar.response import Stream
from litestar.status_codes import HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE

from pointcare.dicom.part10 import Part10Source
from pointcare.dicom.video import ClipSpan, stored_clip_span
from pointcare.web.dicomweb.multipart import CHUNK_SIZE

MP4 = "video/mp4"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII)


class RangeNotSatisfiable(HTTPException):
    status_code = HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE


@dataclass(frozen=True, slots=True)
class ByteRange:
    first: int
    last: int
    """Inclusive, as in ``Content-Range``."""

    @property
    def length(self) -> int:
        return self.last - self.first + 1


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for within ``size`` bytes; None for the whole (no header,
    several ranges, or a unit other than bytes); 416 when it lies beyond the end."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        suffix = int(last_text)
        if suffix == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise _unsatisfiable(size)
    return ByteRange(first, last)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        detail=f"The clip has {size} bytes: ask for a range within them.",
        headers={"Content-Range": f"bytes */{size}"},
    )


def clip_answer(source: Part10Source, range_header: str | None) -> Stream:
    """The clip of a stored video object, whole (200) or the range asked for (206)."""
    span = stored_clip_span(source)
    wanted = byte_range(range_header, span.length)
    # Content-Type in the headers: Litestar 2.25 gives a Stream the route's media type (JPEG,
    # for the rendered resource of a photo) over the Stream's own.
    headers = {"Content-Type": MP4, "Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    if wanted is None:
        first, length, status = 0, span.length, 200
    else:
        first, length, status = wanted.first, wanted.length, 206
        headers["Content-Range"] = f"bytes {wanted.first}-{wanted.last}/{span.length}"
    headers["Content-Length"] = str(length)
    return Stream(
        _chunks(source, span, first, length),
        status_code=status,
        media_type=MP4,
        headers=headers,
    )


def _chunks(source: Part10Source, span: ClipSpan, first: int, length: int) -> Iterator[bytes]:
    start = span.offset + first
    if isinstance(source, bytes):
        yield source[start : start + length]
        return
    with Path(source).open("rb") as file:
        file.seek(start)
        remaining = length
        while remaining > 0:
            chunk = file.read(min(CHUNK_SIZE, remaining))
            if not chunk:  # the file shrank under us: end the answer short, never pad it
                return
            remaining -= len(chunk)
            yield chunk
