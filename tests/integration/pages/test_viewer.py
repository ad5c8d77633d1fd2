"""The OHIF viewer under /viewer/: "Open in viewer" on the review and photo pages only when it is
installed, its files for clinicians and admins only, its page and policy fitted to it.

The viewer is the real one ``make viewer`` installs; tests that need it skip locally without it
and fail under CI=true.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from pointcare.runtime import Runtime
from pointcare.settings import Settings
from pointcare.web.viewer import installed, viewer_dir
from tests.integration.pages.conftest import HTML, SignIn
from tests.integration.security.conftest import StorePhoto, store_photo
from tests.support.tools import missing

__all__ = ["store_photo"]  # the fixture, used by name

VIEWER_LINK = re.compile(
    r'<a class="button button-secondary" href="([^"]+)"[^>]*>Open in viewer</a>'
)


@pytest.fixture
def the_viewer() -> Path:
    folder = viewer_dir(Settings())
    if not installed(Settings()):
        missing(f"the OHIF viewer in {folder} (run: make viewer)")
    return folder


def test_open_in_viewer_is_offered_only_when_the_viewer_is_installed(
    browser: SignIn, store_photo: StorePhoto, runtime: Runtime, the_viewer: Path, tmp_path: Path
) -> None:
    photo = store_photo()
    doctor = browser("clinician")
    review = doctor.get("/patients/PC100001?issuer=PCDEMO", headers=HTML)
    [link] = VIEWER_LINK.findall(review.text)
    assert link == f"/viewer/viewer?StudyInstanceUIDs={photo.study}"
    page = doctor.get(f"/patients/PC100001/photos/{photo.sop}?issuer=PCDEMO", headers=HTML)
    [link] = VIEWER_LINK.findall(page.text)
    assert link.replace("&amp;", "&") == (
        f"/viewer/viewer?StudyInstanceUIDs={photo.study}&initialSopInstanceUID={photo.sop}"
    )
    original = runtime.settings
    runtime.settings = replace(original, viewer_dir=str(tmp_path))  # an empty folder
    try:
        assert (
            "Open in viewer"
            not in doctor.get("/patients/PC100001?issuer=PCDEMO", headers=HTML).text
        )
        absent = doctor.get("/viewer/viewer")
        assert absent.status_code == 404
        assert "make viewer" in absent.text
    finally:
        runtime.settings = original


def test_the_viewer_page_and_files(browser: SignIn, the_viewer: Path) -> None:
    doctor = browser("clinician")
    for path in ("/viewer", "/viewer/viewer", "/viewer/viewer/dicomweb?StudyInstanceUIDs=1.2.3"):
        answer = doctor.get(path, headers=HTML)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text, "inline scripts moved to app-config.js"
        assert "init-service-worker" not in answer.text
        assert 'src="/viewer/app-config.js"' in answer.text
        assert 'src="/static/js/viewer-glass.js"' in answer.text
        assert not re.search(r'(src|href)="/(?!viewer/|static/)', answer.text), "all under /viewer/"
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self' 'wasm-unsafe-eval';" in policy
        assert "worker-src 'self' blob:" in policy
        assert "frame-ancestors 'none'" in policy
    config = doctor.get("/viewer/app-config.js")
    assert config.headers["content-type"].startswith("text/javascript")
    assert '"wadoRoot": "/dicomweb"' in config.text
    assert 'window.PUBLIC_URL = "/viewer/"' in config.text
    bundle = next(the_viewer.glob("app.bundle.*.js"))
    answer = doctor.get(f"/viewer/{bundle.name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "private, max-age=604800"
    assert answer.content == bundle.read_bytes()
    assert b'__webpack_require__.p = "/viewer/";' in answer.content
    wasm = next(the_viewer.glob("*.wasm"))
    assert doctor.get(f"/viewer/{wasm.name}").headers["content-type"] == "application/wasm"
    for absent in ("/viewer/missing.js", "/viewer/.pointcare-viewer", "/viewer/..%2fsecret_key"):
        assert doctor.get(absent).status_code == 404, absent


def test_the_viewer_is_for_those_who_review(browser: SignIn, the_viewer: Path) -> None:
    nurse = browser("photographer")
    assert nurse.get("/viewer/viewer").status_code == 403
    assert nurse.get("/viewer/app-config.js").status_code == 403
    admin = browser("admin")
    assert admin.get("/viewer/viewer").status_code == 200
