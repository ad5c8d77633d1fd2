"""Byte ranges of a stored clip, as a ``<video>`` element asks for them."""

from __future__ import annotations

import pytest

from pointcare.web.dicomweb.clips import ByteRange, RangeNotSatisfiable, byte_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-", ByteRange(0, 999)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=100-199", ByteRange(100, 199)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        (" bytes=10-20 ", ByteRange(10, 20)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole clip
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_one_range_is_served_the_rest_whole(header: str | None, expected: ByteRange | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=5-4", "bytes=-0"])
def test_a_range_beyond_the_clip_is_416_with_its_size(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as refusal:
        byte_range(header, 1000)
    assert refusal.value.status_code == 416
    assert refusal.value.headers == {"Content-Range": "bytes */1000"}
