"""glibc malloc settings for a process that decodes large photos in worker threads.

By default glibc gives threads up to 8 arenas per core and, each time a large block is freed,
raises the size from which it maps memory instead of carving it from an arena (up to 32 MB).
The decoders' buffers (libheif's planes, libjpeg's coefficient arrays, 10 to 50 MB each) then
end up in arenas that keep freed memory: after a burst of iPhone HEIC uploads a server sat at
about 600 MB, not 300. With one arena per concurrent decode and a fixed 4 MB threshold, large
buffers are mapped and unmapped, and a burst's memory goes back to the system (``make bench``
reports each scenario's peak memory). The price, measured by alternating requests between two
servers: a photo turned losslessly takes about 15 % longer (its 73 MB of coefficient buffers are
faulted in afresh each time), a re-encoded or HEIC photo 2 to 4 %.

Pillow's own reuse of image blocks (``photo.keep_image_memory``) is not affected: it keeps its
blocks itself. glibc's own settings (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``) win when
they are set; on a C library without ``mallopt`` (musl, macOS) nothing is changed.

Most of that price is the kernel's, not the decoder's: a 12 MP lossless turn maps about 73 MB of
coefficient arrays and faults them in 4 KB page by page, some 18,000 faults, a third of the
turn's time. glibc 2.35 and later can ask for transparent huge pages (2 MB) on the blocks it maps
(the tunable ``glibc.malloc.hugetlb=1``): the same memory is still given back when freed, with
about 2,800 faults instead. A tunable is read only as the process starts, so ``pointcare serve``
starts itself again with it once (:func:`huge_pages_environment`) where the kernel gives huge
pages on request only (where it gives them always, nothing would change); ``GLIBC_TUNABLES``
naming ``glibc.malloc.hugetlb`` (``=0`` to refuse them) wins.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb"
_FIRST_GLIBC_WITH_HUGE_PAGES = (2, 35)
_TRANSPARENT_HUGE_PAGES = Path("/sys/kernel/mm/transparent_hugepage/enabled")
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


def huge_pages_environment(
    environ: Mapping[str, str], *, glibc: str | None, transparent_huge_pages: str | None
) -> dict[str, str] | None:
    """``environ`` with glibc asked to map large blocks on huge pages, or None when it should
    stay as it is: not glibc 2.35 or later (``glibc``: ``os.confstr``'s "glibc 2.36"), huge
    pages not given on request (``transparent_huge_pages``: the kernel's "always [madvise]
    never" line; with "[always]" they are used already, with "[never]" not at all), or the
    tunable already named, by the operator or by the start before this one."""
    if glibc is None or transparent_huge_pages is None:
        return None
    name, _, version = glibc.partition(" ")
    try:
        release = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return None
    if name != "glibc" or release < _FIRST_GLIBC_WITH_HUGE_PAGES:
        return None
    if "[madvise]" not in transparent_huge_pages:
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    if any(item.partition("=")[0] == HUGE_PAGES_TUNABLE for item in tunables.split(":")):
        return None
    wanted = f"{HUGE_PAGES_TUNABLE}=1"
    return {**environ, "GLIBC_TUNABLES": f"{tunables}:{wanted}" if tunables else wanted}


def huge_pages_here(environ: Mapping[str, str]) -> dict[str, str] | None:
    """:func:`huge_pages_environment` for this machine's C library and kernel."""
    try:
        glibc: str | None = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        glibc = None
    try:
        offered: str | None = _TRANSPARENT_HUGE_PAGES.read_text()
    except OSError:
        offered = None
    return huge_pages_environment(environ, glibc=glibc, transparent_huge_pages=offered)


def start_again_with_huge_pages(argv: list[str]) -> None:
    """Replace this process by the same command (``sys.orig_argv``) with huge pages for large
    blocks, when :func:`huge_pages_here` asks for them; otherwise return. Call it first
    thing: nothing started here survives."""
    environ = huge_pages_here(os.environ)
    if environ is None or not argv or not argv[0]:
        return
    try:
        os.execve(argv[0], argv, environ)  # noqa: S606 - this very command, no shell
    except OSError:  # the interpreter cannot be started again: serve without huge pages
        return
