from __future__ import annotations

import io
import struct
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pointcare.imaging.exif import (
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    OFFSET_TIME_ORIGINAL,
    PhotoMoment,
    moment_taken,
    orientation,
)
from tests.support.tools import corpus
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


@pytest.mark.parametrize(
    ("folder", "name", "local", "offset"),
    [
        ("gps", "DSCN0010.jpg", datetime(2008, 10, 22, 16, 28, 39), None),
        ("heic", "iphone_13_pro_max.heic", datetime(2022, 2, 16, 12, 55, 41), 60),
        ("heic", "iphone_IMG_5195.heic", datetime(2021, 4, 11, 15, 47, 53), -300),
    ],
)
def test_the_moment_a_photo_was_taken_is_read_from_its_exif(
    folder: str, name: str, local: datetime, offset: int | None
) -> None:
    assert moment_taken(corpus("photos", folder, name).read_bytes()) == PhotoMoment(local, offset)


@pytest.mark.parametrize(
    "name", ["truncated.heic", "empty.heic", "corrupted.heic"], ids=lambda name: name
)
def test_a_broken_file_has_no_moment(name: str) -> None:
    assert moment_taken(corpus("photos", "invalid", name).read_bytes()) is None


@pytest.mark.parametrize(
    ("date_text", "offset_text", "expected"),
    [
        ("2024:05:04 10:15:00", "+02:00", PhotoMoment(datetime(2024, 5, 4, 10, 15), 120)),
        ("2024:05:04 10:15:00", "-09:30", PhotoMoment(datetime(2024, 5, 4, 10, 15), -570)),
        ("2024:05:04 10:15:00", "+25:00", PhotoMoment(datetime(2024, 5, 4, 10, 15), None)),
        ("2024:05:04 10:15:00", "nonsense", PhotoMoment(datetime(2024, 5, 4, 10, 15), None)),
        ("0000:00:00 00:00:00", "+02:00", None),
        ("2024:13:40 10:15:00", None, None),
        ("    :  :     :  :  ", None, None),
    ],
)
def test_odd_exif_dates_and_offsets(
    date_text: str, offset_text: str | None, expected: PhotoMoment | None
) -> None:
    exif = Image.Exif()
    tags = {DATE_TIME_ORIGINAL: date_text}
    if offset_text is not None:
        tags[OFFSET_TIME_ORIGINAL] = offset_text
    exif[EXIF_IFD] = tags
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif)
    assert moment_taken(out.getvalue()) == expected
