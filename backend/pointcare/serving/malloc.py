"""glibc malloc settings for a process that decodes large photos in worker threads.

By default glibc gives threads up to 8 arenas per core and, each time a large block is freed,
raises the size from which it maps memory instead of carving it from an arena (up to 32 MB).
The decoders' buffers (libheif's planes, libjpeg's coefficient arrays, 10 to 50 MB each) then
end up in arenas that keep freed memory: after a burst of iPhone HEIC uploads a server sat at
about 600 MB, not 300. With one arena per concurrent decode and a fixed 4 MB threshold, large
buffers are mapped and unmapped, and a burst's memory goes back to the system (``make bench``
reports each scenario's peak memory). The price, measured by alternating requests between two
servers: a photo turned losslessly takes about 15 % longer (its 36 MB of coefficient buffers are
faulted in afresh each time), a re-encoded or HEIC photo 2 to 4 %.

Pillow's own reuse of image blocks (``photo.keep_image_memory``) is not affected: it keeps its
blocks itself. glibc's own settings (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``) win when
they are set; on a C library without ``mallopt`` (musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # <malloc.h>
_M_ARENA_MAX = -8


def give_back_large_buffers(concurrent_decodes: int) -> dict[str, int]:
    """Apply the settings above; returns those applied (name -> value)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return {}
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    wanted = {
        "MALLOC_ARENA_MAX": (_M_ARENA_MAX, max(2, concurrent_decodes)),
        "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
    }
    applied = {}
    for name, (option, value) in wanted.items():
        if name in os.environ:
            continue
        if mallopt(option, value) == 1:
            applied[name] = value
        else:
            log.warning("mallopt refused %s=%d", name, value)
    return applied
