"""Clips are recognised by their first bytes, and a photo is never taken for a clip."""

from __future__ import annotations

import struct

import pytest

from pointcare.video.formats import ClipFormat, sniff_clip
from tests.support import clips as made
from tests.support.clips import ClipFactory, ClipSpec
from tests.support.tools import corpus


def ftyp(brand: bytes, *compatible: bytes) -> bytes:
    body = brand + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 32


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (made.UPRIGHT_MP4, ClipFormat.MP4),
        (made.PHONE_MOV, ClipFormat.QUICKTIME),
        (made.VP9_WEBM, ClipFormat.WEBM),
        (made.H264_MKV, ClipFormat.MATROSKA),
    ],
    ids=lambda value: value.name if isinstance(value, ClipSpec) else None,
)
def test_real_clips_are_recognised(
    clips: ClipFactory, spec: ClipSpec, expected: ClipFormat
) -> None:
    assert sniff_clip(clips.make(spec)) is expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ftyp(b"mp42", b"isom"), ClipFormat.MP4),
        (ftyp(b"qt  "), ClipFormat.QUICKTIME),
        (ftyp(b"3gp4"), ClipFormat.MP4),
        (
            struct.pack(">I", 8) + b"wide" + struct.pack(">I", 1) + b"mdat" + bytes(8),
            ClipFormat.QUICKTIME,
        ),
        (ftyp(b"heic", b"mif1"), None),
        (ftyp(b"mif1", b"heic"), None),
        (ftyp(b"avif"), None),
        (b"\xff\xd8\xff\xe0" + bytes(20), None),
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),
        (b"\x00\x00\x00", None),
        (struct.pack(">I", 4) + b"ftypmp42" + bytes(8), None),
    ],
    ids=[
        "mp4",
        "mov",
        "3gp",
        "old-quicktime",
        "heic",
        "heif",
        "avif",
        "jpeg",
        "avi",
        "short",
        "bad-box",
    ],
)
def test_containers_are_told_by_their_first_box(data: bytes, expected: ClipFormat | None) -> None:
    assert sniff_clip(data) is expected


def test_an_iphone_photo_is_a_photo() -> None:
    for path in corpus("photos", "heic").iterdir():
        assert sniff_clip(path.read_bytes()) is None


def test_each_container_has_one_demuxer() -> None:
    assert {f: f.demuxer for f in ClipFormat} == {
        ClipFormat.MP4: "mov",
        ClipFormat.QUICKTIME: "mov",
        ClipFormat.WEBM: "matroska",
        ClipFormat.MATROSKA: "matroska",
    }
