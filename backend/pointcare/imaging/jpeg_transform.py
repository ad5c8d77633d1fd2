"""Lossless JPEG rotations and flips, by libjpeg-turbo's TurboJPEG transform.

A phone stores most photos as the sensor saw them and says "turn me" in EXIF. Rather than decode
the picture and compress it a second time (a second generation of JPEG loss, and the slowest step
of an upload), the transform rearranges the picture's 8x8 blocks of DCT coefficients: the stored
pixels are exactly the ones the phone compressed, turned upright.

It is exact only when the edge that moves is made of whole MCUs (8 or 16 pixels), which is true
of most phone sensors (4032 x 3024) but not all (4000 x 3000 with Orientation 6). When it is not,
or the data is damaged, or the library is not installed (Debian: ``libturbojpeg0``),
:func:`upright` answers None and the caller decodes and re-encodes instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from enum import IntEnum

log = logging.getLogger(__name__)


class Operation(IntEnum):
    """TurboJPEG's TJXOP values."""

    FLIP_LEFT_RIGHT = 1
    FLIP_TOP_BOTTOM = 2
    TRANSPOSE = 3
    TRANSVERSE = 4
    ROTATE_90_CLOCKWISE = 5
    ROTATE_180 = 6
    ROTATE_270_CLOCKWISE = 7


_UPRIGHT = {
    2: Operation.FLIP_LEFT_RIGHT,
    3: Operation.ROTATE_180,
    4: Operation.FLIP_TOP_BOTTOM,
    5: Operation.TRANSPOSE,
    6: Operation.ROTATE_90_CLOCKWISE,
    7: Operation.TRANSVERSE,
    8: Operation.ROTATE_270_CLOCKWISE,
}
"""EXIF orientation -> the operation that shows the picture as a viewer honouring EXIF would."""

_PERFECT = 1  # TJXOPT_PERFECT: fail rather than drop or leave partial edge blocks
_COPY_NONE = 64  # TJXOPT_COPYNONE: no APPn or COM segment (EXIF, GPS, XMP, ICC) is copied
_STOP_ON_WARNING = 8192  # TJFLAG_STOPONWARNING: damaged data is an error, not grey blocks


class _Region(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in ("x", "y", "w", "h")]


class _Transform(ctypes.Structure):
    _fields_ = [
        ("region", _Region),
        ("op", ctypes.c_int),
        ("options", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("custom_filter", ctypes.c_void_p),
    ]


_Buffer = ctypes.POINTER(ctypes.c_ubyte)


@functools.cache
def _library() -> ctypes.CDLL | None:
    """libturbojpeg, its signatures declared; None (logged once) when it is not installed."""
    try:  # the soname first: find_library needs ldconfig or a compiler, which slim images lack
        lib = ctypes.CDLL("libturbojpeg.so.0")  # a CDLL call releases the interpreter lock
    except OSError:
        name = ctypes.util.find_library("turbojpeg")  # another system's name for it
        if name is None:
            log.warning(
                "libturbojpeg is not installed: EXIF-rotated JPEGs are decoded and re-encoded "
                "instead of being turned losslessly (Debian package libturbojpeg0)"
            )
            return None
        lib = ctypes.CDLL(name)
    lib.tjInitTransform.restype = ctypes.c_void_p
    lib.tjInitTransform.argtypes = []
    lib.tjTransform.restype = ctypes.c_int
    lib.tjTransform.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.POINTER(_Buffer),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(_Transform),
        ctypes.c_int,
    ]
    lib.tjGetErrorStr2.restype = ctypes.c_char_p
    lib.tjGetErrorStr2.argtypes = [ctypes.c_void_p]
    lib.tjFree.restype = None
    lib.tjFree.argtypes = [_Buffer]
    lib.tjDestroy.restype = ctypes.c_int
    lib.tjDestroy.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    return _library() is not None


def upright(jpeg: bytes, orientation: int) -> bytes | None:
    """``jpeg`` (EXIF ``orientation`` 2-8) turned upright block by block, without any APPn or
    COM segment; None when that cannot be done exactly, and the photo must be re-encoded."""
    lib = _library()
    if lib is None:
        return None
    transform = _Transform(op=_UPRIGHT[orientation], options=_PERFECT | _COPY_NONE)
    handle = lib.tjInitTransform()
    if not handle:
        raise MemoryError("tjInitTransform failed")
    out = _Buffer()
    size = ctypes.c_ulong(0)
    try:
        status = lib.tjTransform(
            handle,
            jpeg,
            len(jpeg),
            1,
            ctypes.byref(out),
            ctypes.byref(size),
            ctypes.byref(transform),
            _STOP_ON_WARNING,
        )
        if status != 0:
            # Not whole MCUs on the moving edge, or damaged data: the decoder has the last word.
            reason = (lib.tjGetErrorStr2(handle) or b"").decode("ascii", "replace")
            log.debug("no lossless turn for orientation %d: %s", orientation, reason)
            return None
        return ctypes.string_at(out, size.value)
    finally:
        if out:
            lib.tjFree(out)
        lib.tjDestroy(handle)
