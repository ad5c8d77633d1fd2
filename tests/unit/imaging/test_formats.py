from __future__ import annotations

import pytest

from pointcare.imaging.formats import PhotoFormat, png_dimensions, sniff
from tests.support.tools import corpus
from tests.unit.imaging.images import heic_bytes, jpeg_bytes, png_bytes, scene


def test_recognises_generated_jpeg_png_and_heic() -> None:
    image = scene()
    assert sniff(jpeg_bytes(image)) is PhotoFormat.JPEG
    assert sniff(png_bytes(image)) is PhotoFormat.PNG
    assert sniff(heic_bytes(image)) is PhotoFormat.HEIF


@pytest.mark.parametrize("name", ["iphone_13_pro_max.heic", "iphone_IMG_5195.heic"])
def test_recognises_iphone_heic_whatever_its_label(name: str) -> None:
    assert sniff(corpus("photos", "heic", name).read_bytes()) is PhotoFormat.HEIF


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        b"BM" + bytes(60),
        b"hello, this is text",
        b"\xff\xd8",  # SOI alone is not enough to be a JPEG worth decoding
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
        b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf",  # AVIF under a generic brand
        b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41",  # an MP4 video
    ],
    ids=["empty", "gif", "pdf", "bmp", "text", "soi-only", "avif", "avif-generic", "mp4"],
)
def test_refuses_other_content(data: bytes) -> None:
    assert sniff(data) is None


def test_heif_cut_inside_its_ftyp_box_is_still_heif() -> None:
    """So that it is reported as damaged, not as the wrong kind of file."""
    heic = heic_bytes(scene())
    assert sniff(heic[:20]) is PhotoFormat.HEIF


def test_png_dimensions_come_from_ihdr() -> None:
    assert png_dimensions(png_bytes(scene((33, 17)))) == (33, 17)
    assert png_dimensions(b"\x89PNG\r\n\x1a\n") is None
