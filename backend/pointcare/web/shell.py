"""The installable app shell: web app manifest, service worker and the offline page.

The service worker keeps only the static shell (stylesheets, scripts, icons, the local htmx copy)
and the offline page, none of which holds patient data. Everything else (pages, the API,
DICOMweb, photos) goes to the network and is never stored; a page that cannot load offline
gets the offline page instead. The cache name carries the app version and a digest of the shell
files, so a changed file means a new cache and the old one is deleted on activation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from pointcare import __version__
from pointcare.runtime import Runtime
from pointcare.web.assets import HTMX_LOCAL_URL, pwa_dir

MANIFEST_PATH = "/manifest.webmanifest"
SERVICE_WORKER_PATH = "/sw.js"
OFFLINE_PATH = "/offline"
SHELL_PATHS = [r"^/manifest\.webmanifest$", r"^/sw\.js$", r"^/offline$"]
"""Public: browsers fetch the manifest without cookies; none of the three holds patient data."""

START_URL = "/bedside"
"""The installed app opens on the bedside scan screen: installing is for photographing at the
bedside; the desk pages stay one tap away in the header."""

THEME_COLOUR = "#ffffff"
"""--surface in app.css (light): the header's colour, so that the title bar continues it."""
THEME_COLOUR_DARK = "#1b1e24"
"""--surface in app.css (dark)."""
BACKGROUND_COLOUR = "#f4f5f8"
"""--bg in app.css (light): the splash screen's colour while the first page loads."""

ICONS = (
    {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
    {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
    {
        "src": "/static/icons/icon-maskable-512.png",
        "sizes": "512x512",
        "type": "image/png",
        "purpose": "maskable",
    },
)
SHELL_FOLDERS = ("css", "js", "icons", "img")
"""Folders of ``static/`` that make up the shell; ``vendor/`` only for the htmx in use."""


def manifest() -> dict[str, Any]:
    return {
        "id": "/",
        "name": "Pointcare",
        "short_name": "Pointcare",
        "description": "Clinical photography at the bedside, straight into the patient's record.",
        "lang": "en",
        "dir": "ltr",
        "start_url": START_URL,
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "categories": ["medical"],
        "icons": list(ICONS),
    }


@dataclass(frozen=True, slots=True)
class Shell:
    """What the service worker keeps: the URLs and the name of the cache holding them."""

    cache_name: str
    urls: tuple[str, ...]


@cache
def shell(static_dir: Path, local_htmx: bool) -> Shell:
    """The shell files under ``static_dir``, read once per process."""
    files = sorted(
        path
        for folder in SHELL_FOLDERS
        for path in (static_dir / folder).rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )
    if local_htmx:
        htmx = static_dir / HTMX_LOCAL_URL.removeprefix("/static/")
        if htmx.is_file():
            files.append(htmx)
    digest = hashlib.sha256()
    urls = [OFFLINE_PATH]
    for path in files:
        relative = path.relative_to(static_dir).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
        urls.append(f"/static/{relative}")
    return Shell(f"pointcare-shell-{__version__}-{digest.hexdigest()[:12]}", tuple(urls))


def shell_of(runtime: Runtime) -> Shell:
    return shell(pwa_dir() / "static", runtime.settings.htmx_src == "local")


@get(MANIFEST_PATH, sync_to_thread=False, include_in_schema=False)
def web_app_manifest() -> Response[dict[str, Any]]:
    return Response(manifest(), media_type="application/manifest+json")


@get(SERVICE_WORKER_PATH, sync_to_thread=True, include_in_schema=False)
def service_worker(runtime: NamedDependency[Runtime]) -> Template:
    current = shell_of(runtime)
    return Template(
        template_name="shell/sw.js",
        context={"cache_name": current.cache_name, "shell_urls": list(current.urls)},
        media_type="text/javascript",
    )


@get(OFFLINE_PATH, sync_to_thread=False, include_in_schema=False)
def offline_page() -> Template:
    return Template(template_name="pages/offline.html")


SHELL_ROUTES = [web_app_manifest, service_worker, offline_page]
