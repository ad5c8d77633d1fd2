"""Where the PWA's files are, and where pages load htmx from."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

HTMX_VERSION = "2.0.11"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
HTMX_LOCAL_URL = "/static/vendor/htmx.min.js"


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
