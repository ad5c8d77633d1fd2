"""Where the PWA's files are, and where pages load htmx from."""

from __future__ import annotations

import functools
import importlib.util
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from litestar.config.compression import CompressionConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware

HTMX_VERSION = "2.0.11"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
HTMX_LOCAL_URL = "/static/vendor/htmx.min.js"
STATIC_URL = "/static/"
MODULE_IMPORT = re.compile(
    r"""^\s*(?:import|export)\s[^;]*?\bfrom\s*["'](\.{1,2}/[^"']+)["']"""
    r"""|^\s*import\s*["'](\.{1,2}/[^"']+)["']""",
    re.MULTILINE,
)
"""A static ``import``/``export ... from`` of a module of ours (a relative path)."""

STATIC_COMPRESSION = DefineMiddleware(
    CompressionMiddleware,
    config=CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=1024),
)
"""The PWA's own files (styles, scripts, icons) travel gzipped: a third of their bytes over a
slow ward network. It is the static files' middleware only, so nothing else is compressed:
pages carry the CSRF token next to what the request named (BREACH), and photos, DICOM and
clips are compressed already."""


def pwa_dir() -> Path:
    """The folder holding ``templates/`` and ``static/``: packaged, editable or source tree."""
    packaged = Path(__file__).resolve().parents[1] / "pwa"
    if (packaged / "templates").is_dir():
        return packaged
    spec = importlib.util.find_spec("pointcare.pwa")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "templates").is_dir():
                return Path(location)
    return Path(__file__).resolve().parents[3] / "pwa"


@dataclass(frozen=True, slots=True)
class ScriptSource:
    url: str
    integrity: str | None
    csp_source: str | None
    """What the Content-Security-Policy must allow besides this origin: the one pinned CDN file
    (its full URL), never the CDN's whole origin, which serves every npm package."""


def htmx_source(mode: str) -> ScriptSource:
    if mode == "local":
        return ScriptSource(HTMX_LOCAL_URL, HTMX_SRI, None)
    return ScriptSource(HTMX_CDN_URL, HTMX_SRI, HTMX_CDN_URL)


@functools.cache
def module_imports(entry: str) -> tuple[str, ...]:
    """Every module the script ``entry`` (a path under static/, ``js/bedside/main.js``) imports,
    directly or through another, as paths under static/, in the order first met.

    A page announces them all at once (``<link rel="modulepreload">``): otherwise the browser
    learns of a module only once the one importing it has arrived, one round trip per level,
    before the page does anything (a camera screen is three levels deep)."""
    static = pwa_dir() / "static"
    found: list[str] = []
    pending = [entry]
    while pending:
        current = pending.pop(0)
        for match in MODULE_IMPORT.finditer((static / current).read_text(encoding="utf-8")):
            relative = match.group(1) or match.group(2)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(current), relative))
            if target != entry and target not in found:
                found.append(target)
                pending.append(target)
    return tuple(found)
