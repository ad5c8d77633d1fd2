"""libheif through ctypes: a HEIF photo's primary image decoded as stored, turned by Pillow.

pillow_heif asks libheif for the picture as it should be shown, and libheif then turns it by
walking the decoded photo pixel by pixel down its columns: on a 12 MP iPhone portrait photo
(stored on its side, with a 90 degree ``irot``) that walk took a third of the decode, about
150 ms. Here libheif decodes the image as stored and says which transformations its file
lists (rotation, mirror, clean-aperture crop), and Pillow applies them in that order; its
transpose works in cache-sized tiles and is about ten times faster. (A transformation that is
not a plain one, in a damaged file, is left to libheif, which decodes that file again.)

The library is the very one pillow_heif loaded (same version, same decoders, same security
limits). Every call through a ``CDLL`` releases the interpreter lock while it runs. An iPhone
photo's Display P3 colours are brought to sRGB in libheif's own buffer, before Pillow copies it
(see :mod:`littlecms`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pillow_heif
from PIL import Image

from pointcare.imaging import colour, littlecms, native

log = logging.getLogger(__name__)

_RGB = 1
"""heif_colorspace_RGB"""
_INTERLEAVED_RGB = 10
"""heif_chroma_interleaved_RGB: 3 bytes a pixel"""
_INTERLEAVED = 10
"""heif_channel_interleaved"""
_MIRROR = int.from_bytes(b"imir", "big")
_ROTATION = int.from_bytes(b"irot", "big")
_CROP = int.from_bytes(b"clap", "big")
_MAX_TRANSFORMATIONS = 16
_LIBHEIF = re.compile(r"libheif(-[0-9a-f]+)?\.so")
"""libheif.so.1, or the copy a pillow_heif wheel bundles (libheif-e72ea93c.so.1.23.6); not its
plugins (libheif-libde265.so)"""
_TURNS = {
    90: Image.Transpose.ROTATE_90,  # libheif's angles, like Pillow's, are anticlockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}
_MIRRORS = {
    0: Image.Transpose.FLIP_TOP_BOTTOM,  # heif_transform_mirror_direction_vertical
    1: Image.Transpose.FLIP_LEFT_RIGHT,  # heif_transform_mirror_direction_horizontal
}


class HeifError(Exception):
    """libheif refused the file; the message is the library's."""


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


class _DecodingOptions(ctypes.Structure):
    """The start of ``struct heif_decoding_options`` (versions 1 and 2, which never change):
    allocated by libheif with its defaults for the rest."""

    _fields_ = [
        ("version", ctypes.c_uint8),
        ("ignore_transformations", ctypes.c_uint8),
        ("start_progress", ctypes.c_void_p),
        ("on_progress", ctypes.c_void_p),
        ("end_progress", ctypes.c_void_p),
        ("progress_user_data", ctypes.c_void_p),
        ("convert_hdr_to_8bit", ctypes.c_uint8),
    ]


_P = ctypes.c_void_p
_INT = ctypes.c_int
_ID = ctypes.c_uint32
_SIGNATURES: native.Signatures = {
    "heif_context_alloc": (_P, []),
    "heif_context_free": (None, [_P]),
    "heif_context_set_max_decoding_threads": (None, [_P, _INT]),
    "heif_context_read_from_memory_without_copy": (
        _Error,
        [_P, ctypes.c_char_p, ctypes.c_size_t, _P],
    ),
    "heif_context_get_primary_image_handle": (_Error, [_P, ctypes.POINTER(_P)]),
    "heif_image_handle_get_item_id": (_ID, [_P]),
    "heif_image_handle_release": (None, [_P]),
    "heif_decoding_options_alloc": (ctypes.POINTER(_DecodingOptions), []),
    "heif_decoding_options_free": (None, [ctypes.POINTER(_DecodingOptions)]),
    "heif_decode_image": (
        _Error,
        [_P, ctypes.POINTER(_P), _INT, _INT, ctypes.POINTER(_DecodingOptions)],
    ),
    "heif_image_get_width": (_INT, [_P, _INT]),
    "heif_image_get_height": (_INT, [_P, _INT]),
    "heif_image_get_plane": (ctypes.c_void_p, [_P, _INT, ctypes.POINTER(_INT)]),
    "heif_image_release": (None, [_P]),
    "heif_item_get_transformation_properties": (_INT, [_P, _ID, ctypes.POINTER(_ID), _INT]),
    "heif_item_get_property_type": (_INT, [_P, _ID, _ID]),
    "heif_item_get_property_transform_rotation_ccw": (_INT, [_P, _ID, _ID]),
    "heif_item_get_property_transform_mirror": (_INT, [_P, _ID, _ID]),
    "heif_item_get_property_transform_crop_borders": (
        None,
        [_P, _ID, _ID, _INT, _INT, *[ctypes.POINTER(_INT)] * 4],
    ),
}


def library() -> ctypes.CDLL | None:
    """The library, ready to call; None when native code is off (``native.use_native_code``)
    or the library cannot be used here."""
    return _loaded() if native.native_code() else None


@functools.cache
def _loaded() -> ctypes.CDLL | None:
    """libheif, its signatures declared; None (logged once) when it lacks what is needed here
    (libheif older than 1.18 has no API for an item's transformations)."""
    pillow_heif.libheif_version()  # makes sure the extension, and its libheif, are loaded
    path = native.loaded_library(_LIBHEIF) or ctypes.util.find_library("heif")
    try:
        lib = native.declared(path, _SIGNATURES) if path else None
    except (OSError, AttributeError) as exc:
        log.info("libheif cannot be called directly (%s)", exc)
        lib = None
    if lib is None:
        log.warning(
            "HEIF photos are decoded through pillow_heif alone: libheif 1.18 or later was not "
            "found, and turning a rotated iPhone photo takes longer"
        )
    return lib


def available() -> bool:
    return library() is not None


def _check(error: _Error) -> None:
    if error.code != 0:
        raise HeifError((error.message or b"").decode("utf-8", "replace"))


@contextmanager
def _primary_handle(lib: ctypes.CDLL, data: bytes) -> Iterator[tuple[int, int]]:
    """The context and the primary image's handle, both freed on the way out."""
    context = lib.heif_context_alloc()
    if not context:
        raise MemoryError("heif_context_alloc failed")
    handle = _P()
    try:
        lib.heif_context_set_max_decoding_threads(context, pillow_heif.options.DECODE_THREADS)
        # ``data`` outlives the context: it is only read inside this block.
        _check(lib.heif_context_read_from_memory_without_copy(context, data, len(data), None))
        _check(lib.heif_context_get_primary_image_handle(context, ctypes.byref(handle)))
        yield context, handle.value or 0
    finally:
        if handle.value:
            lib.heif_image_handle_release(handle)
        lib.heif_context_free(context)


@contextmanager
def _decoded(lib: ctypes.CDLL, handle: int, *, as_stored: bool) -> Iterator[int]:
    """The primary image decoded to 8-bit interleaved RGB, its transformations applied by
    libheif unless ``as_stored``."""
    options = lib.heif_decoding_options_alloc()
    if not options:
        raise MemoryError("heif_decoding_options_alloc failed")
    image = _P()
    try:
        options.contents.ignore_transformations = int(as_stored)
        options.contents.convert_hdr_to_8bit = 1
        _check(lib.heif_decode_image(handle, ctypes.byref(image), _RGB, _INTERLEAVED_RGB, options))
        yield image.value or 0
    finally:
        lib.heif_decoding_options_free(options)
        if image.value:
            lib.heif_image_release(image)


def _srgb_image(
    lib: ctypes.CDLL, handle: int, icc: bytes | None, *, as_stored: bool
) -> Image.Image:
    """The primary image, decoded, its colours brought to sRGB from ``icc``."""
    with _decoded(lib, handle, as_stored=as_stored) as image:
        pixels = _pixels(lib, image)
        in_srgb = colour.srgb_in_place(pixels, icc)
        decoded = _to_pillow(pixels)
    return decoded if in_srgb else colour.to_srgb(decoded, icc)


def _pixels(lib: ctypes.CDLL, image: int) -> littlecms.RgbPixels:
    width = lib.heif_image_get_width(image, _INTERLEAVED)
    height = lib.heif_image_get_height(image, _INTERLEAVED)
    stride = _INT()
    plane = lib.heif_image_get_plane(image, _INTERLEAVED, ctypes.byref(stride))
    if not plane or width <= 0 or height <= 0:
        raise HeifError("the decoded image has no pixels")
    return littlecms.RgbPixels(plane, width, height, stride.value)


def _to_pillow(pixels: littlecms.RgbPixels) -> Image.Image:
    array = (ctypes.c_ubyte * (pixels.stride * pixels.height)).from_address(pixels.address)
    buffer = memoryview(array).cast("B")
    # Copied into Pillow's own memory (4 bytes a pixel there) before libheif frees its own.
    size = (pixels.width, pixels.height)
    return Image.frombytes("RGB", size, buffer, "raw", "RGB", pixels.stride, 1)


def _transformed(
    lib: ctypes.CDLL, context: int, item: int, image: Image.Image
) -> Image.Image | None:
    """``image`` with the item's transformations applied, in the order the file lists them;
    None when one is not a plain quarter turn, mirror or crop inside the image (a damaged
    file): libheif then applies them its own way, as pillow_heif would have."""
    ids = (_ID * _MAX_TRANSFORMATIONS)()
    count = lib.heif_item_get_transformation_properties(context, item, ids, _MAX_TRANSFORMATIONS)
    if count > _MAX_TRANSFORMATIONS:
        return None
    for property_id in ids[:count]:
        kind = lib.heif_item_get_property_type(context, item, property_id)
        if kind == _ROTATION:
            angle = lib.heif_item_get_property_transform_rotation_ccw(context, item, property_id)
            if angle not in (0, *_TURNS):
                return None
            if angle:
                image = image.transpose(_TURNS[angle])
        elif kind == _MIRROR:
            direction = lib.heif_item_get_property_transform_mirror(context, item, property_id)
            if direction not in _MIRRORS:
                return None
            image = image.transpose(_MIRRORS[direction])
        elif kind == _CROP:
            left, top, right, bottom = (_INT() for _ in range(4))
            width, height = image.size
            lib.heif_item_get_property_transform_crop_borders(
                context, item, property_id, width, height,
                *(ctypes.byref(side) for side in (left, top, right, bottom)),
            )  # fmt: skip
            box = (left.value, top.value, width - right.value, height - bottom.value)
            if not 0 <= box[0] < box[2] <= width or not 0 <= box[1] < box[3] <= height:
                return None
            image = image.crop(box)
        else:
            return None
    return image


def decode_primary(data: bytes, icc: bytes | None) -> Image.Image | None:
    """The primary image of HEIF ``data``, as it is meant to be shown, in 8-bit sRGB (``icc``
    is the profile the caller read from the file: those colours are converted); None when
    libheif cannot be called here (the caller then lets pillow_heif decode it).

    Raises :class:`HeifError` (or MemoryError) when libheif refuses the file."""
    lib = library()
    if lib is None:
        return None
    with _primary_handle(lib, data) as (context, handle):
        stored = _srgb_image(lib, handle, icc, as_stored=True)
        upright = _transformed(lib, context, lib.heif_image_handle_get_item_id(handle), stored)
        if upright is None:
            log.info("HEIF transformations left to libheif: they are not plain ones")
            upright = _srgb_image(lib, handle, icc, as_stored=False)
    return upright
