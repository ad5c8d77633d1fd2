"""Video Photographic Image objects (PS3.3 A.32.7) around a normalised clip.

The clip's MP4 (one H.264 High Profile video track, index first) is the Pixel Data, whole, in
one fragment after an empty Basic Offset Table, as the non-fragmentable MPEG-4 AVC/H.264
transfer syntaxes require (PS3.5 A.4.7); PS3.5 8.2.7 names MP4 as one of the two containers the
stream may travel in. Every browser and DICOMweb viewer that plays video plays it as it is.
"""

from __future__ import annotations

from fractions import Fraction

from pydicom.dataset import FileDataset
from pydicom.tag import Tag

from pointcare.dicom.modules import Equipment, SeriesContext, StudyContext, with_file_meta
from pointcare.dicom.photo import (
    MODALITY,
    PhotoDetails,
    encapsulate_single_frame,
    photographic_dataset,
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
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = PHOTOMETRIC
    ds.PlanarConfiguration = 0
    ds.Rows = clip.rows
    ds.Columns = clip.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate_single_frame(clip.mp4)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
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
