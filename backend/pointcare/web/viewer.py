"""The OHIF viewer, served under /viewer/ and pointed at this server's own /dicomweb.

``make viewer`` (infra/fetch-viewer.sh) installs the pinned ``@ohif/app`` build into the viewer
folder; without it nothing is served here and pages show no "Open in viewer" link.

The viewer reads DICOMweb on the same origin with the signed-in session's cookie: no token in a
URL, nothing to configure per user. Every rule of /dicomweb holds inside it: a clinician's role,
a launch session's patients, sealed sensitive photos (403 until the glass is broken). Its
configuration (``app-config.js``) is written here, and its page is the build's own with the
inline scripts moved into that file (so the policy allows scripts from this origin only) and
without the script that unregisters every service worker of the origin (Pointcare's own
included). The policy of /viewer/ is its own: OHIF compiles its image codecs to WebAssembly,
runs web workers from blob: URLs, sets styles inline and shows a PDF in an <object>.
"""

from __future__ import annotations

import json
import mimetypes
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import File

from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from pointcare.settings import Settings, frame_ancestors_sources
from pointcare.web.assets import pwa_dir
from pointcare.web.dicomweb.links import PREFIX as DICOMWEB
from pointcare.web.security import REVIEW

PREFIX = "/viewer"
STAMP = ".pointcare-viewer"
GLASS_NOTICE = "/static/js/viewer-glass.js"
"""Written by infra/fetch-viewer.sh: the version installed, and its public path."""
ASSET_MAX_AGE = 7 * 24 * 3600
"""The build's files hold no patient data; their names change with each version."""

_MEDIA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_SERVICE_WORKER = re.compile(r'<script[^>]*src="/init-service-worker\.js"[^>]*></script>')
_ROOT_LINK = re.compile(r'(href|src)="/(?!/)')


def viewer_dir(settings: Settings) -> Path:
    return Path(settings.viewer_dir) if settings.viewer_dir else pwa_dir() / "viewer"


def installed(settings: Settings) -> bool:
    folder = viewer_dir(settings)
    return (folder / STAMP).is_file() and (folder / "index.html").is_file()


def study_link(
    settings: Settings, study_uids: list[str], *, sop_uid: str | None = None
) -> str | None:
    """Where the viewer opens these studies (at one instance, if given); None without it."""
    if not study_uids or not installed(settings):
        return None
    query = {"StudyInstanceUIDs": ",".join(dict.fromkeys(study_uids))}
    if sop_uid is not None:
        query["initialSopInstanceUID"] = sop_uid
    return f"{PREFIX}/viewer?{urlencode(query)}"


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' blob: data:",
            "font-src 'self' data:",
            "connect-src 'self' blob: data:",
            "worker-src 'self' blob:",
            "object-src 'self' blob:",
            "media-src 'self' blob:",
            "manifest-src 'self'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors_sources(frame_ancestors)}",
        ]
    )


def app_config() -> str:
    """``app-config.js``: the viewer's settings, and what its page set in inline scripts."""
    config = {
        "routerBasename": PREFIX,
        "extensions": [],
        "modes": [],
        "customizationService": {},
        "showStudyList": True,
        "maxNumberOfWebWorkers": 2,
        "showWarningMessageForCrossOrigin": False,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "defaultDataSourceName": "pointcare",
        "dataSources": [
            {
                "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
                "sourceName": "pointcare",
                "configuration": {
                    "friendlyName": "Pointcare",
                    "name": "pointcare",
                    "wadoUriRoot": DICOMWEB,
                    "qidoRoot": DICOMWEB,
                    "wadoRoot": DICOMWEB,
                    "qidoSupportsIncludeField": True,
                    "supportsFuzzyMatching": True,
                    "supportsWildcard": True,
                    "imageRendering": "wadors",
                    "thumbnailRendering": "thumbnail",
                    "enableStudyLazyLoad": True,
                    "staticWado": False,
                    "singlepart": "bulkdata,video,pdf",
                    "bulkDataURI": {"enabled": True},
                    "omitQuotationForMultipartRequest": True,
                },
            }
        ],
    }
    return (
        'console.time("scriptToView");\n'
        f'window.PUBLIC_URL = "{PREFIX}/";\n'
        "function browserImportFunction(n) { return import(n); }\n"
        f"window.config = {json.dumps(config, indent=2)};\n"
        "// A sealed sensitive photo (403) is explained over the viewer (viewer-glass.js).\n"
        "window.config.httpErrorHandler = (error) => window.pointcareViewer?.refused(error);\n"
    )


@cache
def _page(index: Path, modified: float) -> str:
    """The build's page, fit for this server (see the module doc); cached per file version."""
    html = index.read_text(encoding="utf-8")
    html = _SERVICE_WORKER.sub("", html)
    html = _INLINE_SCRIPT.sub("", html)
    html = _ROOT_LINK.sub(rf'\1="{PREFIX}/', html)
    config = f'<script rel="preload" as="script" src="{PREFIX}/app-config.js"></script>'
    if config not in html:
        raise ValueError("the viewer's page no longer loads app-config.js: check the OHIF version")
    return html.replace(config, f'<script src="{GLASS_NOTICE}"></script>{config}')


def _media_type(path: Path) -> str:
    """Browsers refuse scripts, styles and WebAssembly served as anything else."""
    known = _MEDIA_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _headers(settings: Settings, *, cacheable: bool) -> dict[str, str]:
    headers = {"Content-Security-Policy": content_security_policy(settings.frame_ancestors)}
    headers["Cache-Control"] = f"private, max-age={ASSET_MAX_AGE}" if cacheable else "no-store"
    return headers


@get([PREFIX, f"{PREFIX}/{{path:path}}"], guards=[REVIEW], include_in_schema=False)
async def viewer_file(request: Request[Any, Any, Any], path: str = "/") -> Response[Any]:
    """A file of the viewer; its page for any route of the single-page app."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if not installed(settings):
        raise NotFound("The viewer is not installed here (make viewer).")
    name = path.lstrip("/")
    if name == "app-config.js":
        return Response(
            app_config(),
            media_type="text/javascript",
            headers=_headers(settings, cacheable=False),
        )
    folder = viewer_dir(settings).resolve()
    target = (folder / name).resolve() if name else folder
    if not target.is_relative_to(folder):
        raise NotFound("There is no such file in the viewer.")
    if name and target.is_file() and name != STAMP:
        return File(
            target,
            media_type=_media_type(target),
            content_disposition_type="inline",
            headers=_headers(settings, cacheable=True),
        )
    if name and "." in name.rsplit("/", 1)[-1]:
        raise NotFound(f"The viewer has no file {name[:120]!r}.")
    index = folder / "index.html"
    return Response(
        _page(index, index.stat().st_mtime),
        media_type="text/html",
        headers=_headers(settings, cacheable=False),
    )


VIEWER_ROUTES = [viewer_file]
