"""Video Photographic Image objects (PS3.3 A.32.7) around a normalised clip.

The clip's MP4 (one H.264 High Profile video track, index first) is the Pixel Data, whole, in
one fragment after an empty Basic Offset Table, as the non-fragmentable MPEG-4 AVC/H.264
transfer syntaxes require (PS3.5 A.4.7); PS3.5 8.2.7 names MP4 as one of the two containers the
stream may travel in. Every browser and DICOMweb viewer that plays video plays it as it is.
"""

from __future__ import annotations

import struct
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from io import BytesIO
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataset import FileDataset
from pydicom.tag import Tag

from pointcare.dicom.modules import Equipment, SeriesContext, StudyContext, with_file_meta
from pointcare.dicom.part10 import Part10Source
from pointcare.dicom.photo import (
    MODALITY,
    PhotoDetails,
    photographic_dataset,
    set_encapsulated_pixels,
)
from pointcare.domain.patients import PatientIdentity
from pointcare.video.clip import NormalisedClip

VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.4.1"
MPEG4_HIGH_PROFILE_LEVEL_4_1 = "1.2.840.10008.1.2.4.102"
MPEG4_HIGH_PROFILE_LEVEL_4_2_2D = "1.2.840.10008.1.2.4.104"
VIDEO_TRANSFER_SYNTAXES = frozenset({MPEG4_HIGH_PROFILE_LEVEL_4_1, MPEG4_HIGH_PROFILE_LEVEL_4_2_2D})
LOSSY_METHOD = "ISO_14496_10"
"""Lossy Image Compression Method for MPEG-4 AVC/H.264 (CID 7201)."""
PHOTOMETRIC = "YBR_PARTIAL_420"
"""What PS3.5 8.2.7 requires for an MPEG-4 AVC/H.264 stream's 4:2:0 samples."""
FRAME_TIME = Tag(0x0018, 0x1063)
_MAX_FRAME_SIZE_MACROBLOCKS = 8192
"""H.264 Table A-1 MaxFS at levels 4.1 and 4.2."""


def transfer_syntax_for(level: int) -> str:
    """The MPEG-4 AVC/H.264 transfer syntax of a High Profile stream at ``level`` (``level_idc``).

    Level 4.1 and below: High Profile / Level 4.1 (1.2.840.10008.1.2.4.102); level 4.2: High
    Profile / Level 4.2 For 2D Video (.104). The BD-compatible syntax (.103), a stricter subset
    of .102, is not claimed: its constraints on the stream are not checked here."""
    if 1 <= level <= 41:
        return MPEG4_HIGH_PROFILE_LEVEL_4_1
    if level == 42:
        return MPEG4_HIGH_PROFILE_LEVEL_4_2_2D
    raise ValueError(f"H.264 level_idc {level} has no MPEG-4 AVC/H.264 2D transfer syntax")


def build_video_photographic_image(
    *,
    clip: NormalisedClip,
    patient: PatientIdentity,
    study: StudyContext,
    series: SeriesContext,
    details: PhotoDetails,
    equipment: Equipment,
) -> FileDataset:
    """A Video Photographic Image Storage object, ready for ``to_part10``."""
    transfer_syntax = transfer_syntax_for(clip.level)
    _check_clip(clip)
    ds = photographic_dataset(
        sop_class_uid=VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE,
        modality=MODALITY,
        patient=patient,
        study=study,
        series=series,
        details=details,
        equipment=equipment,
    )
    if clip.transcoded:
        # General Image Module (C.7.6.1): a second lossy compression, said where it came from.
        ds.DerivationDescription = (
            f"Transcoded from {clip.source_codec.upper()} ({clip.source_format}) "
            "to MPEG-4 AVC/H.264 High Profile"
        )

    # Cine Module (C.7.6.5): the frames' pace; players take the stream's own timestamps.
    ds.FrameTime = _decimal(1000 / clip.frame_rate)
    ds.CineRate = round(clip.frame_rate)
    ds.RecommendedDisplayFrameRate = round(clip.frame_rate)
    ds.ActualFrameDuration = round(1000 / clip.frame_rate)

    # Multi-frame Module (C.7.6.6)
    ds.NumberOfFrames = clip.frames
    ds.FrameIncrementPointer = FRAME_TIME

    # VL Image Module (C.8.12.1): the ratio against 8-bit RGB frames, as for photos.
    ratio = clip.rows * clip.columns * 3 * clip.frames / len(clip.mp4)
    ds.LossyImageCompressionRatio = f"{ratio:.2f}"
    ds.LossyImageCompressionMethod = LOSSY_METHOD

    # Image Pixel Module (C.7.6.3), with the values PS3.5 8.2.7 prescribes for the stream.
    set_encapsulated_pixels(
        ds, photometric=PHOTOMETRIC, samples=3, size=(clip.rows, clip.columns), encoded=clip.mp4
    )
    return with_file_meta(ds, transfer_syntax)


def _check_clip(clip: NormalisedClip) -> None:
    """The facts the object states about its stream, checked against the stream's limits:
    validators cannot look inside the MP4."""
    if clip.rows < 1 or clip.columns < 1 or clip.rows % 2 or clip.columns % 2:
        raise ValueError(f"Rows/Columns {clip.rows}x{clip.columns} are not an even 4:2:0 frame")
    macroblocks = -(-clip.rows // 16) * -(-clip.columns // 16)
    if macroblocks > _MAX_FRAME_SIZE_MACROBLOCKS:
        raise ValueError(
            f"Rows/Columns {clip.rows}x{clip.columns} exceed level 4.2's "
            f"{_MAX_FRAME_SIZE_MACROBLOCKS} macroblocks"
        )
    if clip.frames < 1:
        raise ValueError(f"NumberOfFrames must be 1 or more, got {clip.frames}")
    if clip.frame_rate <= 0:
        raise ValueError(f"the frame rate must be positive, got {clip.frame_rate}")
    if clip.mp4[4:8] != b"ftyp":
        raise ValueError("PixelData is not an MP4 file (no ftyp box first)")


def _decimal(value: Fraction) -> str:
    """A DS value: up to 16 characters."""
    return f"{float(value):.6g}"


# --- Reading a stored clip ----------------------------------------------------------------------

_PIXEL_DATA_HEADER = b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff"
"""(7FE0,0010) OB, undefined length: encapsulated Pixel Data, explicit VR little endian."""
_ITEM = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"


@dataclass(frozen=True, slots=True)
class ClipSpan:
    """Where a stored video object's MP4 lies in its Part 10 file, byte for byte."""

    offset: int
    length: int


def stored_clip_span(source: Part10Source) -> ClipSpan:
    """The MP4 inside a stored Video Photographic object: its one fragment, without the padding
    byte an odd-length MP4 gets. Found by reading the header and a few box sizes, never the
    clip itself, so a player's range requests are served straight from the file."""
    with ExitStack() as stack:
        file: BinaryIO = (
            stack.enter_context(source.open("rb"))
            if not isinstance(source, bytes)
            else BytesIO(source)
        )
        dataset = dcmread(file, stop_before_pixels=True)
        syntax = str(dataset.file_meta.TransferSyntaxUID)
        if syntax not in VIDEO_TRANSFER_SYNTAXES:
            raise ValueError(f"transfer syntax {syntax} is not a video syntax written here")
        if file.read(len(_PIXEL_DATA_HEADER)) != _PIXEL_DATA_HEADER:
            raise ValueError("encapsulated Pixel Data does not follow the header")
        offset_table = _item_length(file)
        file.seek(offset_table, 1)
        length = _item_length(file)
        start = file.tell()
        file.seek(length, 1)
        if file.read(4) != _SEQUENCE_DELIMITER:
            raise ValueError("Pixel Data holds more than one fragment")
        return ClipSpan(start, _mp4_length(file, start, length))


def stored_clip(source: Part10Source) -> bytes:
    """The MP4 of a stored Video Photographic object, whole."""
    span = stored_clip_span(source)
    if isinstance(source, bytes):
        return source[span.offset : span.offset + span.length]
    with source.open("rb") as file:
        file.seek(span.offset)
        return file.read(span.length)


def _item_length(file: BinaryIO) -> int:
    head = file.read(8)
    if len(head) != 8 or head[:4] != _ITEM:
        raise ValueError("an item of encapsulated Pixel Data is missing")
    (length,) = struct.unpack("<I", head[4:])
    return int(length)


def _mp4_length(file: BinaryIO, start: int, fragment: int) -> int:
    """The MP4's own length: its top-level boxes, end to end, within the fragment."""
    position = start
    while position + 8 <= start + fragment:
        file.seek(position)
        size, kind = struct.unpack(">I4s", file.read(8))
        if size == 1:
            (size,) = struct.unpack(">Q", file.read(8))
        elif size == 0:
            size = start + fragment - position
        if size < 8:
            raise ValueError(f"MP4 box {kind!r} has an impossible size {size}")
        position += size
    end = start + fragment
    if position == end:
        return fragment
    if position == end - 1:
        return fragment - 1  # the padding byte of an odd-length clip
    raise ValueError("the MP4 in Pixel Data does not end where its fragment does")
