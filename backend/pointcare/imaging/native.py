"""C libraries called through ctypes: found (where an extension has already loaded one) and
their functions declared.

Wheels bundle their own copies of C libraries, renamed with a hash
(``liblcms2-88eaba2f.so.2.0.19``); :func:`loaded_library` finds the copy an extension loaded, so
that a call through ctypes uses the same version as the extension. Only libjpeg-turbo's
lossless transform is called this way now: libheif's decode, LittleCMS on its buffer and
re-encoding through YCbCr planes were measured (``make bench-native``) and removed, as they did
not save the 20 % of time that is the bar for native code.
"""

from __future__ import annotations

import ctypes
import os
import re

Signatures = dict[str, tuple[object, list[object]]]
"""Function name: (return type, argument types)."""

_enabled = True


def use_native_code(on: bool) -> None:
    """Turn every library called through ctypes on (the default) or off. Off, Pillow and
    pillow-heif do all the image work: the same results, slower (``POINTCARE_NATIVE_CODE``)."""
    global _enabled
    _enabled = on


def native_code() -> bool:
    """Whether the libraries of this package may be called directly."""
    return _enabled


def loaded_library(name: re.Pattern[str]) -> str | None:
    """The path of the first library mapped into this process whose file name ``name`` matches
    from its start; None when there is none (or no ``/proc``, outside Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = "/" + line.rstrip("\n").partition("/")[2]
                if name.match(os.path.basename(path)):
                    return path
    except OSError:
        pass
    return None


def declared(path: str, signatures: Signatures) -> ctypes.CDLL:
    """The library at ``path`` (or of that name), each of ``signatures`` declared on it.

    Raises OSError when it cannot be loaded, AttributeError when a function is missing."""
    lib = ctypes.CDLL(path)
    for function, (restype, argtypes) in signatures.items():
        getattr(lib, function).restype = restype
        getattr(lib, function).argtypes = argtypes
    return lib
