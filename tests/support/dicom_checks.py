"""Checks on stored objects shared by unit and integration tests: dciodvfy, JPEG metadata, size,
pydicom's encoding."""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
from pathlib import Path

import pydicom
from pydicom.dataset import FileDataset

from tests.support.tools import require_tool

_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Byte strings that only metadata carries. "GPS" alone is too short to search entropy-coded
# data for (it occurs there by chance), so it is only looked for inside marker segments.
_METADATA_ANYWHERE = (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"Photoshop 3.0")
_METADATA_IN_HEADERS = (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"ICC_PROFILE")

KNOWN_DCIODVFY_FALSE_POSITIVES = frozenset(
    {
        # dicom3tools 1.00~20220618 (Debian 12) runs its "Clinical Trial Protocol ID is only
        # permitted for NAMED_PROTOCOL" check on every Consent for Clinical Trial Use item, even
        # one without Clinical Trial Protocol ID (0012,0020), which the standard requires only for
        # NAMED_PROTOCOL. Each RESTRICTED_REUSE / PUBLIC_RELEASE / NO item therefore reports it.
        "Error - Only permitted when DistributionType is NAMED_PROTOCOL - attribute "
        "<ClinicalTrialProtocolID>",
    }
)


# dciodvfy's verdict on View Code Sequence, which the VL Photographic IOD does not list (a
# Standard Extended SOP Class), and on the local coding scheme it has never heard of.
VIEW_WARNINGS = frozenset(
    {
        "Warning - Unrecognized defined term <99PCARE> for value 1 of attribute "
        "<Coding Scheme Designator>",
        "Warning - Attribute is not present in standard DICOM IOD - (0x0008,0x0100) SH Code Value",
        "Warning - Attribute is not present in standard DICOM IOD - (0x0008,0x0102) SH Coding "
        "Scheme Designator",
        "Warning - Attribute is not present in standard DICOM IOD - (0x0008,0x0104) LO Code "
        "Meaning",
        "Warning - Attribute is not present in standard DICOM IOD - (0x0054,0x0220) SQ View Code "
        "Sequence",
        "Warning - Dicom dataset contains attributes not present in standard DICOM IOD - this is "
        "a Standard Extended SOP Class",
    }
)


DERMOSCOPY_WARNINGS = frozenset(
    {
        # dicom3tools 1.00~20220618 checks Modality against General Series' defined terms, which
        # its tables list without DMS (added with the Dermoscopic Photography IOD in 2020); its
        # own Dermoscopy Photography Series check requires DMS, and passes.
        "Warning - Unrecognized defined term <DMS> for value 1 of attribute <Modality>",
    }
)


def dciodvfy_report(dicom: Path | bytes) -> tuple[list[str], list[str]]:
    """(errors, warnings) that dciodvfy reports for a Part 10 file or its bytes."""
    tool = require_tool("dciodvfy")
    if isinstance(dicom, bytes):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "object.dcm"
            path.write_bytes(dicom)
            return _run_dciodvfy(tool, path)
    return _run_dciodvfy(tool, dicom)


def _run_dciodvfy(tool: str, path: Path) -> tuple[list[str], list[str]]:
    done = subprocess.run([tool, str(path)], capture_output=True, timeout=60, check=False)
    # dciodvfy writes Latin-1 text, mostly to stderr.
    lines = (done.stderr + done.stdout).decode("latin-1").splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    warnings = [line for line in lines if line.startswith("Warning")]
    return errors, warnings


def assert_valid_dicom(
    data: bytes, *, expected_warnings: frozenset[str] | set[str] = frozenset()
) -> None:
    """Fail with dciodvfy's own words on any error (bar its known false positives) or on any
    warning not listed in ``expected_warnings``."""
    errors, warnings = dciodvfy_report(data)
    real_errors = [line for line in errors if line.strip() not in KNOWN_DCIODVFY_FALSE_POSITIVES]
    assert not real_errors, "dciodvfy errors:\n" + "\n".join(real_errors)
    unexpected = [line for line in warnings if line.strip() not in expected_warnings]
    assert not unexpected, "dciodvfy warnings:\n" + "\n".join(unexpected)


def _header_segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the first scan, plus those between scans."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(jpeg):
        if jpeg[pos] != 0xFF:
            # Inside entropy-coded data: skip to the next real marker.
            nxt = _next_marker(jpeg, pos)
            if nxt is None:
                break
            pos = nxt
            continue
        marker = jpeg[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            break
        if marker in _STANDALONE or marker == 0x00:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        segments.append((marker, jpeg[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return segments


def _next_marker(jpeg: bytes, pos: int) -> int | None:
    while True:
        pos = jpeg.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(jpeg):
            return None
        following = jpeg[pos + 1]
        if following != 0x00 and not 0xD0 <= following <= 0xD7:
            return pos
        pos += 2


def jpeg_has_metadata(jpeg: bytes) -> bool:
    """True when the JPEG carries EXIF, XMP, GPS, ICC, IPTC, comments or other APPn data.

    A bare JFIF APP0 header (with no thumbnail) is not metadata.
    """
    if any(token in jpeg for token in _METADATA_ANYWHERE):
        return True
    for marker, payload in _header_segments(jpeg):
        if marker == 0xE0 and payload.startswith(b"JFIF\x00") and payload[12:14] == b"\x00\x00":
            continue
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            return True
        if any(token in payload for token in _METADATA_IN_HEADERS):
            return True
    return False


def jpeg_frame(jpeg: bytes) -> tuple[int, int, int, int]:
    """(SOF marker, precision, width, height) from the JPEG's frame header."""
    for marker, payload in _header_segments(jpeg):
        if marker in _SOF_MARKERS:
            precision, height, width = struct.unpack_from(">BHH", payload)
            return marker, precision, width, height
    raise AssertionError("no SOF marker in the JPEG")


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG's SOF marker."""
    _, _, width, height = jpeg_frame(jpeg)
    return width, height


def pydicom_part10(ds: FileDataset) -> bytes:
    """``ds`` as pydicom's general writer encodes it: what our own encoder must match."""
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
