"""Reading what we stored: the encapsulated JPEG of a photo's Part-10 file."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pydicom.encaps import generate_frames

JPEG_END_OF_IMAGE = b"\xff\xd9"

Part10Source = Path | bytes
"""A Part-10 object: a file of the spool, or bytes retrieved from the PACS."""


def readable(source: Part10Source) -> Path | BytesIO:
    """Something ``dcmread`` can read."""
    return source if isinstance(source, Path) else BytesIO(source)


def first_jpeg_frame(source: Part10Source) -> bytes:
    """The first (for a photo, the only) frame: the encapsulated JPEG, without item padding."""
    dataset = dcmread(readable(source))
    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    # Encapsulated items have even lengths: a JPEG of odd length carries one padding byte.
    trimmed = frame.rstrip(b"\x00")
    return trimmed if trimmed.endswith(JPEG_END_OF_IMAGE) else frame
