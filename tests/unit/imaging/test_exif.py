from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pointcare.imaging.exif import orientation
from tests.unit.imaging.images import exif_with


@pytest.mark.parametrize("value", range(1, 9))
def test_reads_every_orientation(value: int) -> None:
    assert orientation(exif_with(value, gps=True), None) == value


def test_little_endian_tiff_and_a_block_without_prefix() -> None:
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 8, 0) + b"\x00" * 4
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    assert orientation(tiff, None) == 8
    assert orientation(b"Exif\x00\x00" + tiff, None) == 8


def test_absent_orientation_is_upright() -> None:
    assert orientation(None, None) == 1
    assert orientation(exif_with(None), None) == 1


@pytest.mark.parametrize("value", [0, 9, 255])
def test_out_of_range_orientation_is_upright(value: int) -> None:
    assert orientation(exif_with(value), None) == 1


def test_xmp_orientation_applies_only_without_an_exif_one() -> None:
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    assert orientation(None, xmp) == 6
    assert orientation(None, xmp.decode()) == 6
    assert orientation(exif_with(None), b"<tiff:Orientation>3</tiff:Orientation>") == 3
    assert orientation(exif_with(1), xmp) == 1


@pytest.mark.parametrize(
    "block",
    [
        b"Exif\x00\x00garbage that is not TIFF",
        b"Exif\x00\x00II*\x00\xff\xff\x00\x00",  # IFD0 offset far beyond the block
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12",  # five entries announced, none
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x00",  # IFD0 inside the header
    ],
)
def test_broken_exif_is_reported_as_unreadable(block: bytes) -> None:
    assert orientation(block, b'tiff:Orientation="6"') is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_never_raises_on_arbitrary_bytes(block: bytes) -> None:
    assert orientation(block, block) in {None, *range(1, 9)}
