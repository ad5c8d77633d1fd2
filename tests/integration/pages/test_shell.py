"""The app shell over HTTP: manifest, service worker and offline page, public and patient-free."""

from __future__ import annotations

import json
import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from pointcare import __version__
from pointcare.web.assets import HTMX_LOCAL_URL, pwa_dir
from pointcare.web.shell import shell
from tests.integration.pages.conftest import SignIn

STATIC = pwa_dir() / "static"


def test_the_manifest_is_public_and_names_installable_icons(client: TestClient[Litestar]) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    assert manifest["name"] == "Pointcare"
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/"
    assert manifest["start_url"].startswith("/")
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        fetched = client.get(icon["src"])
        assert fetched.status_code == 200, icon["src"]
        width, height = (int(n) for n in icon["sizes"].split("x"))
        with Image.open(STATIC / icon["src"].removeprefix("/static/")) as image:
            assert image.format == "PNG"
            assert image.size == (width, height)
            if icon.get("purpose") == "maskable":  # fills the square: the launcher cuts it
                assert image.mode == "RGB"
    for key in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest[key])
        assert manifest[key] in (STATIC / "css" / "app.css").read_text()


def test_the_service_worker_lists_only_shell_files(client: TestClient[Litestar]) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    cache_name = json.loads(re.search(r"const CACHE = (\".*?\");", response.text).group(1))  # type: ignore[union-attr]
    urls = json.loads(re.search(r"const SHELL = new Set\((\[.*?\])\);", response.text).group(1))  # type: ignore[union-attr]
    assert cache_name.startswith(f"pointcare-shell-{__version__}-")
    assert "/offline" in urls
    assert "/static/css/app.css" in urls
    assert "/static/js/sw-register.js" in urls
    assert "/static/icons/icon-192.png" in urls
    assert HTMX_LOCAL_URL in urls  # the test settings serve the local htmx
    for url in urls:
        assert url == "/offline" or url.startswith("/static/"), url
        assert not re.match(r"/(patients|api|dicomweb|bedside)(/|$)", url), url
        assert client.get(url).status_code == 200, url


def test_the_cache_name_changes_when_a_shell_file_changes(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    style = tmp_path / "css" / "app.css"
    style.write_text("body { color: black; }")
    before = shell(tmp_path, False)
    style.write_text("body { color: navy; }")
    shell.cache_clear()
    after = shell(tmp_path, False)
    shell.cache_clear()
    assert before.urls == after.urls == ("/offline", "/static/css/app.css")
    assert before.cache_name != after.cache_name


def test_cdn_htmx_is_not_in_the_shell(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "htmx.min.js").write_text("/* htmx */")
    try:
        assert HTMX_LOCAL_URL not in shell(tmp_path, False).urls
        assert HTMX_LOCAL_URL in shell(tmp_path, True).urls
    finally:
        shell.cache_clear()


def test_the_offline_page_is_public_and_says_what_to_do(client: TestClient[Litestar]) -> None:
    response = client.get("/offline", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "No connection" in response.text
    assert "Wi-Fi" in response.text
    assert 'class="who"' not in response.text  # nobody signed in: nothing about a user


def test_every_page_links_the_manifest_and_registers_the_worker(browser: SignIn) -> None:
    html = browser("photographer").get("/").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'src="/static/js/sw-register.js"' in html
    assert 'rel="apple-touch-icon"' in html
    assert 'name="theme-color"' in html


def test_the_shell_routes_only_answer_get(client: TestClient[Litestar]) -> None:
    for path in ("/manifest.webmanifest", "/sw.js", "/offline"):
        assert client.post(path).status_code in (403, 405), path
