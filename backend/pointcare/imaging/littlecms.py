"""LittleCMS through ctypes, for pixels Pillow does not hold yet: 3-byte RGB, converted in place.

Pillow keeps RGB as 4 bytes a pixel, and LittleCMS handles that padding byte through its slow
general path: 20 ns a pixel here, against 12 ns for packed 3-byte RGB. A decoder's own RGB
buffer (libheif's) is converted here before Pillow copies it. The library is the copy Pillow's
ImageCms loaded, so the numbers are the ones ImageCms would give.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import re
from dataclasses import dataclass

from PIL import _imagingcms  # noqa: F401  (Pillow's ImageCms extension: loads its LittleCMS)

from pointcare.imaging import native, parallel

log = logging.getLogger(__name__)

_TYPE_RGB_8 = (4 << 16) | (3 << 3) | 1
"""COLORSPACE_SH(PT_RGB) | CHANNELS_SH(3) | BYTES_SH(1)"""
_LIBLCMS2 = re.compile(r"liblcms2(-[0-9a-f]+)?\.so")
_MIN_BAND_PIXELS = 1_000_000

_P = ctypes.c_void_p
_U32 = ctypes.c_uint32
_SIGNATURES: native.Signatures = {
    "cmsOpenProfileFromMem": (_P, [ctypes.c_char_p, _U32]),
    "cmsCreate_sRGBProfile": (_P, []),
    "cmsCloseProfile": (ctypes.c_int, [_P]),
    "cmsCreateTransform": (_P, [_P, _U32, _P, _U32, _U32, _U32]),
    "cmsDeleteTransform": (None, [_P]),
    "cmsDoTransformLineStride": (None, [_P, _P, _P, *[_U32] * 6]),
}


def library() -> ctypes.CDLL | None:
    """The library, ready to call; None when native code is off (``native.use_native_code``)
    or the library cannot be used here."""
    return _loaded() if native.native_code() else None


@functools.cache
def _loaded() -> ctypes.CDLL | None:
    """The LittleCMS ImageCms uses, its signatures declared; None (logged once) when it cannot
    be found."""
    path = native.loaded_library(_LIBLCMS2) or "liblcms2.so.2"
    try:
        lib = native.declared(path, _SIGNATURES)
    except (OSError, AttributeError) as exc:
        log.warning("LittleCMS cannot be called directly (%s): colours go through ImageCms", exc)
        return None
    return lib


@dataclass(frozen=True, slots=True)
class RgbPixels:
    """A writable buffer of 3-byte RGB pixels, ``stride`` bytes from one row to the next."""

    address: int
    width: int
    height: int
    stride: int


class Transform:
    """A LittleCMS transform from an RGB profile to sRGB, both 3-byte RGB; freed with this
    object."""

    def __init__(self, lib: ctypes.CDLL, source_icc: bytes, intent: int) -> None:
        self._lib = lib
        source = lib.cmsOpenProfileFromMem(source_icc, len(source_icc))
        srgb = lib.cmsCreate_sRGBProfile()
        try:
            handle = (
                lib.cmsCreateTransform(source, _TYPE_RGB_8, srgb, _TYPE_RGB_8, intent, 0)
                if source and srgb
                else None
            )
        finally:
            for profile in (source, srgb):
                if profile:
                    lib.cmsCloseProfile(profile)
        if not handle:
            raise ValueError("LittleCMS cannot build a transform from this profile to sRGB")
        self._handle = handle

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self._lib.cmsDeleteTransform(self._handle)

    def apply_in_place(self, pixels: RgbPixels) -> None:
        """Convert ``pixels`` in place, in horizontal bands side by side on the cores (the
        calls let go of the interpreter lock; one transform serves several threads at once)."""

        def convert(rows: tuple[int, int]) -> None:
            start = pixels.address + rows[0] * pixels.stride
            self._lib.cmsDoTransformLineStride(
                self._handle, start, start, pixels.width, rows[1] - rows[0],
                pixels.stride, pixels.stride, 0, 0,
            )  # fmt: skip

        parallel.map_parts(
            convert, parallel.row_bands(pixels.width, pixels.height, _MIN_BAND_PIXELS)
        )
