"""Find a C library that a Python extension has already loaded into this process.

Pillow and pillow_heif wheels bundle their own copies of LittleCMS and libheif, renamed with a
hash (``liblcms2-88eaba2f.so.2.0.19``). Calling that very copy through ctypes means the same
version, with the same decoders and security limits, as the extension itself uses.
"""

from __future__ import annotations

import os
import re


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
