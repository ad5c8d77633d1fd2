"""Turn an uploaded photo into the one JPEG the archive stores: upright, sRGB, no metadata.

Two paths:

* **kept** - a baseline sRGB phone JPEG keeps its compressed data: byte for byte when it is
  upright, its blocks turned losslessly when EXIF says it is rotated or mirrored (see
  :mod:`jpeg_transform`); only its metadata segments are removed (no generation loss, and cheap);
* **re-encoded** - everything else (progressive JPEGs, rotations that cannot be done
  losslessly, HEIC, PNG, wide-gamut, 4:4:4, CMYK...) is decoded once by Pillow or pillow-heif,
  turned upright, converted to sRGB and encoded once as baseline JPEG.

Either way every byte of compressed data is decoded before the photo is accepted (for a
lossless turn, the upload's: the stored blocks are its blocks, rearranged), so a truncated or
corrupt upload is refused here, with a message a clinician can act on, rather than stored.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import pillow_heif
from PIL import Image, ImageFile
from PIL import _imaging as pillow_core  # Image.core: the memory-block settings

from pointcare.imaging import colour, exif, jpeg_markers, jpeg_transform, parallel
from pointcare.imaging.formats import PhotoFormat, png_dimensions, sniff

# Once, at import: lets Image.open read HEIC/HEIF (iPhone photos).
pillow_heif.register_heif_opener()

BLOCKS_PER_DECODE = 6
"""Pillow memory blocks (16 MB each) that one 12 MP re-encode uses: the decoded photo and its
upright copy, 3 blocks each."""

log = logging.getLogger(__name__)

Photometric = Literal["YBR_FULL_422", "MONOCHROME2"]
"""DICOM Photometric Interpretation of the stored JPEG.

YBR_FULL_422 labels chroma-subsampled YCbCr (4:2:2 and, per PS3.3 C.7.6.3.1.2, 4:2:0 as well).
YBR_FULL (4:4:4) is never produced: the VL Image module does not allow it, so 4:4:4 input is
re-encoded at 4:2:0 rather than mislabelled.
"""

THUMBNAIL_MAX_SIDE = 320
THUMBNAIL_QUALITY = 80
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_KEPT_SUBSAMPLING = frozenset({"4:2:0", "4:2:2"})

_UNSUPPORTED = "This file is not a photo we can store. Please send a JPEG, PNG, HEIC or TIFF photo."
_EMPTY = "The file is empty. Please take or choose the photo again."
_UNREADABLE = (
    "The photo could not be read: the file is damaged or incomplete. Please take or send it again."
)


class PhotoRejected(ValueError):
    """The upload cannot be stored; the message is written for the person who sent it."""


class UnsupportedImage(PhotoRejected):
    """The content is not a JPEG, PNG, HEIC/HEIF or TIFF image, whatever its name or type says."""


class UnreadableImage(PhotoRejected):
    """The content looks like a photo but does not decode completely (truncated, corrupt)."""


class ImageTooLarge(PhotoRejected):
    """More pixels than allowed; refused from the header, before any decoding."""


@dataclass(frozen=True, slots=True)
class NormalisedPhoto:
    jpeg: bytes
    """Baseline 8-bit JPEG, upright, sRGB, without APPn (EXIF, XMP, ICC, IPTC) or COM segments."""
    rows: int
    """Height, from the stored JPEG's frame header."""
    columns: int
    """Width, from the stored JPEG's frame header."""
    photometric: Photometric
    reencoded: bool
    """False when the upload's own compressed data was kept (turned losslessly if need be)."""
    source_format: PhotoFormat
    thumbnail: bytes
    """JPEG, longest side at most 320 pixels, upright, no metadata."""


def keep_image_memory(concurrent_decodes: int) -> None:
    """Let Pillow keep freed image memory for the next photo rather than hand it back.

    By default each large image's blocks go back to the system when it is freed, and the next
    photo gets fresh pages that the kernel must zero first: about 100 MB for every re-encoded
    12 MP photo, 10 to 20 % of the re-encode path's time. Kept, they cost at most
    ``BLOCKS_PER_DECODE`` blocks per concurrent decode, memory the busiest moment used anyway.
    ``PILLOW_BLOCKS_MAX``, Pillow's own setting, wins when it is set.
    """
    if "PILLOW_BLOCKS_MAX" not in os.environ:
        pillow_core.set_blocks_max(BLOCKS_PER_DECODE * max(1, concurrent_decodes))


def normalise_photo(data: bytes, *, max_pixels: int, quality: int = 95) -> NormalisedPhoto:
    """Validate and normalise an uploaded photo; raise :class:`PhotoRejected` to refuse it."""
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # With it set, Pillow pads a truncated photo with grey and reports success.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    if not data:
        raise UnsupportedImage(_EMPTY)
    photo_format = sniff(data)
    if photo_format is None:
        raise UnsupportedImage(_UNSUPPORTED)

    structure = _jpeg_structure(data) if photo_format is PhotoFormat.JPEG else None
    _check_header_size(data, photo_format, structure, max_pixels)
    with decoding(), Image.open(io.BytesIO(data), formats=[photo_format.value]) as image:
        _check_pixels(*image.size, max_pixels=max_pixels)
        icc: bytes | None = image.info.get("icc_profile")
        if photo_format is PhotoFormat.HEIF:
            _decode_secondary_images(image, max_pixels)
            # The HEIF rotation, mirror and crop (the authoritative ones) are applied as the
            # primary image is decoded, and pillow_heif reset the EXIF copy: nothing is left.
            return _reencode(image, photo_format, 1, icc, quality)
        orientation = _orientation(image)
        if structure is not None and (kept := _kept_jpeg(data, structure, orientation, icc)):
            return kept
        return _reencode(image, photo_format, orientation, icc, quality)


@contextmanager
def decoding(
    subject: str = "photo",
    *,
    unreadable: str = _UNREADABLE,
    too_large: str = "The photo has too many pixels to store.",
) -> Iterator[None]:
    """Map whatever a decoder raises on hostile input to a plain-language refusal."""
    try:
        yield
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(too_large) from exc
    except Exception as exc:
        # Pillow and pillow-heif raise OSError, SyntaxError, ValueError, struct.error, EOFError,
        # IndexError... on malformed files; each means the same to the sender.
        log.info("%s refused as unreadable (%s)", subject, type(exc).__name__)
        raise UnreadableImage(unreadable) from exc


def _jpeg_structure(data: bytes) -> jpeg_markers.JpegStructure | None:
    try:
        return jpeg_markers.parse(data)
    except jpeg_markers.JpegStructureError as exc:
        # Not fatal: libjpeg tolerates some oddities the strict parser refuses; the re-encode
        # path then lets the decoder decide.
        log.debug("JPEG marker stream not kept as is: %s", exc)
        return None


def _check_header_size(
    data: bytes,
    photo_format: PhotoFormat,
    structure: jpeg_markers.JpegStructure | None,
    max_pixels: int,
) -> None:
    """Refuse oversized photos from their header alone, before Pillow allocates anything."""
    if structure is not None:
        _check_pixels(structure.frame.width, structure.frame.height, max_pixels=max_pixels)
    elif photo_format is PhotoFormat.PNG and (size := png_dimensions(data)) is not None:
        _check_pixels(*size, max_pixels=max_pixels)


def _check_pixels(width: int, height: int, *, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The photo is too large ({width} x {height} pixels); "
            f"the most we accept is {max_pixels:,} pixels."
        )


def _decode_secondary_images(image: Image.Image, max_pixels: int) -> None:
    """Decode every image of a HEIF file but the primary: a file is whole only if all decode."""
    primary = image.tell()
    for index in range(getattr(image, "n_frames", 1)):
        if index != primary:
            image.seek(index)
            _check_pixels(*image.size, max_pixels=max_pixels)
            image.load()
    image.seek(primary)


def _orientation(image: Image.Image) -> int | None:
    """EXIF orientation 1-8 (XMP tiff:Orientation when EXIF has none); None when unreadable."""
    return exif.orientation(image.info.get("exif"), image.info.get("xmp"))


def _kept_jpeg(
    data: bytes,
    structure: jpeg_markers.JpegStructure,
    orientation: int | None,
    icc: bytes | None,
) -> NormalisedPhoto | None:
    """The upload's own compressed data, upright and stripped; None when it must be re-encoded."""
    refusal = _kept_jpeg_refusal(structure, icc)
    if refusal is None and orientation is None:
        # A broken EXIF block cannot vouch for "no rotation"; re-encoding without rotating
        # is what every viewer would show anyway, and it guarantees the block is gone.
        refusal = "EXIF cannot be parsed"
    if refusal is not None or orientation is None:
        log.debug("re-encoding the JPEG: %s", refusal)
        return None
    if orientation == 1:
        jpeg = jpeg_markers.rewrite_without_metadata(structure)
        return _keep_jpeg(structure, jpeg, _checked_thumbnail(jpeg))
    return _kept_turned(data, structure, orientation)


def _kept_turned(
    data: bytes, structure: jpeg_markers.JpegStructure, orientation: int
) -> NormalisedPhoto | None:
    """The JPEG's blocks turned upright losslessly; None when the turn cannot be exact.

    When the turn will be exact (the sides it moves are whole MCUs), the upload itself is
    check-decoded here (its thumbnail made, then turned) while the turn runs on another core:
    the turn only rearranges the coefficients that decode read. Otherwise the turn is tried
    first, and the check decodes what it gave.
    """

    def turn() -> bytes | None:
        return jpeg_transform.upright(data, orientation)

    thumbnail: bytes | None = None
    if jpeg_transform.is_exact(structure.frame, orientation):
        turned, thumbnail = parallel.side_by_side(
            turn, lambda: _checked_thumbnail(data, orientation)
        )
    else:
        turned = turn()
    upright = _jpeg_structure(turned) if turned is not None else None
    if upright is None:
        log.debug("re-encoding the JPEG: orientation %d cannot be applied losslessly", orientation)
        return None
    if (refusal := _kept_jpeg_refusal(upright, None)) is not None:
        # Turned a quarter, 4:2:2 becomes 4:4:0, which YBR_FULL_422 does not describe.
        log.debug("re-encoding the turned JPEG: %s", refusal)
        return None
    jpeg = jpeg_markers.rewrite_without_metadata(upright)
    return _keep_jpeg(upright, jpeg, thumbnail or _checked_thumbnail(jpeg))


def _kept_jpeg_refusal(structure: jpeg_markers.JpegStructure, icc: bytes | None) -> str | None:
    """Why this JPEG's compressed data cannot be stored (once upright), or None when it can."""
    if not structure.frame.is_baseline:
        return "not baseline 8-bit (progressive, extended, lossless or arithmetic coding)"
    if not structure.only_baseline_markers:
        return "marker segments beyond baseline decoding data"
    return _samples_refusal(structure, icc)


def _samples_refusal(structure: jpeg_markers.JpegStructure, icc: bytes | None) -> str | None:
    """Why this JPEG's samples are not what the archive stores (sRGB YCbCr 4:2:0 or 4:2:2, or
    grey), or None when they are."""
    frame = structure.frame
    if not structure.is_ycbcr_or_grey:
        return "colour components are not YCbCr (RGB, CMYK or YCCK)"
    greyscale = len(frame.components) == 1
    if not greyscale and structure.chroma_subsampling not in _KEPT_SUBSAMPLING:
        return "chroma not 4:2:0 or 4:2:2 (YBR_FULL is not allowed for VL images)"
    if not greyscale and colour.needs_conversion(icc, "RGB"):
        return "ICC profile other than sRGB"
    return None


def _checked_thumbnail(jpeg: bytes, orientation: int = 1) -> bytes:
    """The thumbnail of ``jpeg``, upright, from a decode that reads every entropy-coded byte
    (so truncation fails here): DCT scaling does 1/64 of the inverse DCT work."""
    with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as check:
        check.draft("RGB", (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE))
        # The whole photo in one decoder call, not one call per 64 KB: each call lets go of
        # the interpreter lock and must win it back, which under load means waiting behind
        # the request threads (4 clients: 7 % more photos per second).
        check.decodermaxblock = len(jpeg)
        check.load()
        if orientation in exif.UPRIGHT:
            return thumbnail_jpeg(check.transpose(exif.UPRIGHT[orientation]))
        return thumbnail_jpeg(check)


def _keep_jpeg(
    structure: jpeg_markers.JpegStructure, jpeg: bytes, thumbnail: bytes
) -> NormalisedPhoto:
    frame = structure.frame
    return NormalisedPhoto(
        jpeg=jpeg,
        rows=frame.height,
        columns=frame.width,
        photometric="MONOCHROME2" if len(frame.components) == 1 else "YBR_FULL_422",
        reencoded=False,
        source_format=PhotoFormat.JPEG,
        thumbnail=thumbnail,
    )


def _reencode(
    image: Image.Image,
    photo_format: PhotoFormat,
    orientation: int | None,
    icc: bytes | None,
    quality: int,
) -> NormalisedPhoto:
    image.load()
    if orientation in exif.UPRIGHT:
        image = image.transpose(exif.UPRIGHT[orientation])
    pixels = _srgb_or_grey(image, icc)

    def encode() -> bytes:
        return _encode_jpeg(pixels, quality=quality, subsampling=2)  # 4:2:0: YBR_FULL_422

    if max(pixels.size) > THUMBNAIL_MAX_SIDE:
        # The thumbnail is made from a reduced copy on another core while the photo is
        # encoded: both only read the pixels, and Pillow lets go of the interpreter lock.
        thumbnail, jpeg = parallel.side_by_side(lambda: thumbnail_jpeg(pixels), encode)
    else:  # the thumbnail would be saved from this very image: not two saves at once
        jpeg, thumbnail = encode(), thumbnail_jpeg(pixels)
    return _re_encoded(
        jpeg, "MONOCHROME2" if pixels.mode == "L" else "YBR_FULL_422", photo_format, thumbnail
    )


def _re_encoded(
    jpeg: bytes, photometric: Photometric, source_format: PhotoFormat, thumbnail: bytes
) -> NormalisedPhoto:
    frame = jpeg_markers.read_frame_header(jpeg)
    return NormalisedPhoto(
        jpeg=jpeg,
        rows=frame.height,
        columns=frame.width,
        photometric=photometric,
        reencoded=True,
        source_format=source_format,
        thumbnail=thumbnail,
    )


def _srgb_or_grey(image: Image.Image, icc: bytes | None) -> Image.Image:
    """8-bit L for greyscale sources, sRGB RGB otherwise; transparency flattened onto white."""
    mode = image.mode
    if mode in _GREY_MODES:
        # Grey ICC profiles are dropped: a grey gamma difference is not worth a conversion.
        if mode in _WIDE_GREY_MODES:
            # convert("L") would clip 16-bit samples at 255 instead of scaling them.
            image = image.point(lambda value: value / 256)
        return _flatten(image, "L") if "A" in mode or "a" in mode else image.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.mode in ("RGBA", "RGBa", "LA"):
        image = _flatten(image, "RGB")
    elif image.mode not in ("RGB", "CMYK"):
        image = image.convert("RGB")
    return colour.to_srgb(image, icc)


def _flatten(image: Image.Image, mode: str) -> Image.Image:
    """Composite onto white: DICOM has no alpha, and black (the usual default) hides wounds."""
    if image.mode in ("RGBa", "La"):
        image = image.convert("RGBA" if image.mode == "RGBa" else "LA")
    background = Image.new(mode, image.size, "white")
    background.paste(image.convert(mode), mask=image.getchannel("A"))
    return background


def _encode_jpeg(image: Image.Image, *, quality: int, subsampling: int) -> bytes:
    """Baseline JPEG with nothing but a JFIF header: no EXIF, XMP, ICC or comment."""
    image.info = {}  # Pillow would copy a decoded comment into the new file
    options: dict[str, Any] = {"quality": quality, "optimize": False, "progressive": False}
    if image.mode == "RGB":
        options["subsampling"] = subsampling
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def preview(data: bytes, *, max_pixels: int) -> bytes:
    """A thumbnail of an upload, upright, for a page to show before the photo is sent (browsers
    cannot draw HEIC); :class:`PhotoRejected` for what ``normalise_photo`` would refuse to read.
    Nothing of it is kept."""
    photo_format = sniff(data) if data else None
    if photo_format is None:
        raise UnsupportedImage(_UNSUPPORTED if data else _EMPTY)
    structure = _jpeg_structure(data) if photo_format is PhotoFormat.JPEG else None
    _check_header_size(data, photo_format, structure, max_pixels)
    with decoding(), Image.open(io.BytesIO(data), formats=[photo_format.value]) as image:
        _check_pixels(*image.size, max_pixels=max_pixels)
        if photo_format is PhotoFormat.JPEG:
            image.draft("RGB", (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE))
        orientation = _orientation(image) if photo_format is not PhotoFormat.HEIF else 1
        image.load()
        upright = (
            image.transpose(exif.UPRIGHT[orientation]) if orientation in exif.UPRIGHT else image
        )
        return thumbnail_jpeg(upright)


def thumbnail_jpeg(image: Image.Image) -> bytes:
    """``image`` as the archive's thumbnail: JPEG, longest side at most 320 pixels, no metadata."""
    small = _reduced(image)
    if small.mode != "RGB":
        small = small.convert("RGB")
    return _encode_jpeg(small, quality=THUMBNAIL_QUALITY, subsampling=2)


def _reduced(image: Image.Image) -> Image.Image:
    """``image`` within the thumbnail's size: one box reduction by the smallest whole factor that
    fits, an area average (no aliasing) in a single cheap pass, where a fractional resize would
    convolve the whole photo. The longest side ends between 160 and 320 pixels."""
    factor = -(-max(image.size) // THUMBNAIL_MAX_SIDE)
    return image.reduce(factor) if factor > 1 else image
