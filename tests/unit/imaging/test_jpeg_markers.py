from __future__ import annotations

import pytest

from pointcare.imaging import jpeg_markers
from pointcare.imaging.jpeg_markers import JpegStructureError
from tests.support.dicom_checks import jpeg_has_metadata, jpeg_size
from tests.support.tools import corpus
from tests.unit.imaging.images import decode, exif_with, jpeg_bytes, scene, with_segment


def _scan_onwards(jpeg: bytes) -> bytes:
    """Everything from the first SOS up to and including EOI."""
    structure = jpeg_markers.parse(jpeg)
    first_scan = next(s for s in structure.segments if s.marker == jpeg_markers.SOS)
    start = jpeg.index(first_scan.data)
    end = jpeg.index(b"\xff\xd9", start + len(first_scan.data) - 2)
    return jpeg[start : end + 2]


def test_reads_a_camera_frame_header() -> None:
    structure = jpeg_markers.parse(corpus("photos", "gps", "DSCN0010.jpg").read_bytes())
    assert structure.frame.is_baseline
    assert (structure.frame.width, structure.frame.height) == (640, 480)
    assert structure.chroma_subsampling == "4:2:2"
    assert structure.is_ycbcr_or_grey
    assert structure.only_baseline_markers


def test_rewrite_keeps_entropy_coded_data_and_drops_all_metadata() -> None:
    original = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    assert jpeg_has_metadata(original)  # EXIF with GPS, and XMP

    rewritten = jpeg_markers.rewrite_without_metadata(jpeg_markers.parse(original))

    assert not jpeg_has_metadata(rewritten)
    assert b"GPS" not in rewritten[: rewritten.index(b"\xff\xda")]
    assert _scan_onwards(rewritten) == _scan_onwards(original)
    assert decode(rewritten).tobytes() == decode(original).tobytes()


def test_rewrite_drops_comments_adobe_and_data_after_eoi() -> None:
    base = jpeg_bytes(scene(), subsampling=2)
    adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01"  # transform 1: YCbCr
    data = with_segment(with_segment(base, 0xFE, b"taken at 12 Acacia Avenue"), 0xEE, adobe)
    data += jpeg_bytes(scene((16, 16)))  # what phones append: depth maps, HDR gain maps
    structure = jpeg_markers.parse(data)
    assert structure.adobe_transform == 1

    rewritten = jpeg_markers.rewrite_without_metadata(structure)

    assert b"Acacia" not in rewritten
    assert b"Adobe" not in rewritten
    assert rewritten.count(b"\xff\xd8") == 1
    assert rewritten.endswith(b"\xff\xd9")
    assert decode(rewritten).tobytes() == decode(base).tobytes()


def test_rewrite_writes_a_jfif_header_with_the_original_density() -> None:
    rewritten = jpeg_markers.rewrite_without_metadata(
        jpeg_markers.parse(jpeg_bytes(scene(), dpi=(300, 300)))
    )
    assert rewritten[2:4] == b"\xff\xe0"
    assert rewritten[6:11] == b"JFIF\x00"
    assert jpeg_markers.parse(rewritten).jfif_density == (1, 300, 300)


@pytest.mark.parametrize(
    ("options", "expected"),
    [({"subsampling": 2}, "4:2:0"), ({"subsampling": 1}, "4:2:2"), ({"subsampling": 0}, "4:4:4")],
)
def test_chroma_subsampling(options: dict[str, int], expected: str) -> None:
    assert jpeg_markers.parse(jpeg_bytes(scene(), **options)).chroma_subsampling == expected


@pytest.mark.parametrize(
    ("subsampling", "mode", "mcu"),
    [(2, "RGB", (16, 16)), (1, "RGB", (16, 8)), (0, "RGB", (8, 8)), (2, "L", (8, 8))],
    ids=["4:2:0", "4:2:2", "4:4:4", "grey"],
)
def test_mcu_size(subsampling: int, mode: str, mcu: tuple[int, int]) -> None:
    frame = jpeg_markers.parse(jpeg_bytes(scene(mode=mode), subsampling=subsampling)).frame
    assert frame.mcu_size == mcu


def test_colour_spaces_other_than_ycbcr_are_recognised() -> None:
    grey = jpeg_markers.parse(jpeg_bytes(scene(mode="L")))
    cmyk = jpeg_markers.parse(jpeg_bytes(scene(mode="CMYK")))
    rgb = jpeg_markers.parse(jpeg_bytes(scene(), keep_rgb=True))
    assert grey.is_ycbcr_or_grey
    assert grey.chroma_subsampling is None
    assert not cmyk.is_ycbcr_or_grey
    assert not rgb.is_ycbcr_or_grey


def test_progressive_is_not_baseline() -> None:
    structure = jpeg_markers.parse(jpeg_bytes(scene(), progressive=True))
    assert structure.frame.marker == 0xC2
    assert not structure.frame.is_baseline


def test_truncated_or_malformed_streams_are_refused() -> None:
    good = jpeg_bytes(scene((320, 240)))
    with pytest.raises(JpegStructureError):
        jpeg_markers.parse(good[: len(good) // 2])
    with pytest.raises(JpegStructureError):
        jpeg_markers.parse(good[:-2])  # EOI missing
    with pytest.raises(JpegStructureError):
        jpeg_markers.parse(good[:2] + b"junk" + good[2:])
    with pytest.raises(JpegStructureError):
        jpeg_markers.parse(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(JpegStructureError):
        jpeg_markers.parse(with_segment(good, 0xE1, b"x")[:8])  # segment longer than the data


def test_read_frame_header_needs_only_the_header() -> None:
    jpeg = with_segment(jpeg_bytes(scene((90, 70))), 0xE1, exif_with(6))
    header_only = jpeg[: jpeg.index(b"\xff\xda")]
    frame = jpeg_markers.read_frame_header(header_only)
    assert (frame.width, frame.height) == (90, 70) == jpeg_size(jpeg)
    with pytest.raises(JpegStructureError):
        jpeg_markers.read_frame_header(b"\xff\xd8\xff\xda\x00\x02")
