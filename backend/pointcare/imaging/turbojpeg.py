"""libturbojpeg through ctypes: the library, loaded once, with the calls Pointcare makes declared.

libjpeg-turbo's TurboJPEG API (Debian package ``libturbojpeg0``) offers what Pillow does not:
lossless transforms of a JPEG's DCT blocks. Every call through a ``CDLL`` releases the
interpreter lock while it runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pointcare.imaging import native

log = logging.getLogger(__name__)

STOP_ON_WARNING = 8192
"""TJFLAG_STOPONWARNING: damaged data is an error, not grey blocks."""

Buffer = ctypes.POINTER(ctypes.c_ubyte)


class Region(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int) for name in ("x", "y", "w", "h")]


class Transform(ctypes.Structure):
    _fields_ = [
        ("region", Region),
        ("op", ctypes.c_int),
        ("options", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("custom_filter", ctypes.c_void_p),
    ]


_INT = ctypes.c_int
_HANDLE = ctypes.c_void_p
_SIGNATURES: native.Signatures = {
    "tjInitTransform": (_HANDLE, []),
    "tjDestroy": (_INT, [_HANDLE]),
    "tjGetErrorStr2": (ctypes.c_char_p, [_HANDLE]),
    "tjFree": (None, [Buffer]),
    "tjTransform": (
        _INT,
        [
            _HANDLE,
            ctypes.c_char_p,
            ctypes.c_ulong,
            _INT,
            ctypes.POINTER(Buffer),
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(Transform),
            _INT,
        ],
    ),
}


class TurboJpegError(Exception):
    """A TurboJPEG call failed; the message is the library's."""


def library() -> ctypes.CDLL | None:
    """The library, ready to call; None when native code is off (``native.use_native_code``)
    or the library cannot be used here."""
    return _loaded() if native.native_code() else None


@functools.cache
def _loaded() -> ctypes.CDLL | None:
    """libturbojpeg, its signatures declared; None (logged once) when it is not installed."""
    try:  # the soname first: find_library needs ldconfig or a compiler, which slim images lack
        return native.declared("libturbojpeg.so.0", _SIGNATURES)
    except OSError:
        name = ctypes.util.find_library("turbojpeg")  # another system's name for it
        if name is None:
            log.warning(
                "libturbojpeg is not installed: EXIF-rotated JPEGs are decoded and re-encoded "
                "through RGB instead of being turned losslessly (Debian package libturbojpeg0)"
            )
            return None
        return native.declared(name, _SIGNATURES)


def available() -> bool:
    return library() is not None


@contextmanager
def session(lib: ctypes.CDLL, init: Callable[[], int | None]) -> Iterator[int]:
    """A TurboJPEG handle from ``init`` (tjInitTransform...), destroyed on the way out."""
    handle = init()
    if not handle:
        raise MemoryError(f"{getattr(init, '__name__', 'tjInit')} failed")
    try:
        yield handle
    finally:
        lib.tjDestroy(handle)


def check(lib: ctypes.CDLL, handle: int, status: int) -> None:
    """Raise :class:`TurboJpegError` with the library's message when ``status`` is not 0."""
    if status != 0:
        raise TurboJpegError((lib.tjGetErrorStr2(handle) or b"").decode("ascii", "replace"))


class Output:
    """Where TurboJPEG puts a JPEG it allocates: pass ``byref(buffer)`` and ``byref(size)``."""

    def __init__(self) -> None:
        self.buffer = Buffer()
        self.size = ctypes.c_ulong(0)

    def bytes(self) -> bytes:
        return ctypes.string_at(self.buffer, self.size.value)


@contextmanager
def output(lib: ctypes.CDLL) -> Iterator[Output]:
    """An :class:`Output` whose buffer is freed on the way out, whether the call worked or not."""
    out = Output()
    try:
        yield out
    finally:
        if out.buffer:
            lib.tjFree(out.buffer)
