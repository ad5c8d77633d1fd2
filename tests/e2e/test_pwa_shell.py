"""The installable shell in a real Chromium: installable, caches the shell and nothing else,
and answers with the offline page when the network is gone.

A persistent context (a browser profile on disk), as installability needs; its own browser
process, shared by the tests of this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS, Visit, _visit, answer_consent
from tests.e2e.test_capture_and_review import photo_path
from tests.support.server import LiveServer
from tests.support.tools import require_tool

SHELL_PATIENT = "PC100020"
"""A demo patient no other browser test stores photos for."""


@pytest.fixture(scope="module")
def installed_profile(
    playwright_session: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    executable = require_tool("chromium")
    pixel7 = playwright_session.devices["Pixel 7"]
    context = playwright_session.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=executable,
        args=CHROMIUM_ARGS,
        **{k: v for k, v in pixel7.items() if k != "default_browser_type"},
    )
    yield context
    context.close()


@pytest.fixture
def pwa(installed_profile: BrowserContext, live_server: LiveServer, axe: Axe) -> Iterator[Visit]:
    visit = _visit(installed_profile, live_server, axe, "pixel7")
    try:
        yield visit
    finally:
        visit.page.close()


def wait_for_worker(page: Page) -> None:
    """The worker is active and controls this page (it claims open pages on activation)."""
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def cached(page: Page) -> dict[str, list[str]]:
    """Every cache and the URL paths it holds."""
    result: dict[str, list[str]] = page.evaluate(
        """async () => {
          const out = {};
          for (const name of await caches.keys()) {
            const requests = await (await caches.open(name)).keys();
            out[name] = requests.map((r) => new URL(r.url).pathname + new URL(r.url).search);
          }
          return out;
        }"""
    )
    return result


def installability_errors(pwa: Visit) -> list[dict[str, Any]]:
    session = pwa.page.context.new_cdp_session(pwa.page)
    try:
        answer = session.send("Page.getInstallabilityErrors")
    finally:
        session.detach()
    errors: list[dict[str, Any]] = answer["installabilityErrors"]
    return errors


def test_the_app_is_installable(pwa: Visit) -> None:
    pwa.goto("/login")
    wait_for_worker(pwa.page)
    assert installability_errors(pwa) == []
    pwa.sign_in("nurse")
    pwa.goto("/bedside")
    wait_for_worker(pwa.page)
    assert installability_errors(pwa) == []
    manifest = pwa.page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    assert manifest["start_url"] == "/bedside"


def test_after_patient_pages_the_cache_holds_only_the_shell(pwa: Visit) -> None:
    page = pwa.page
    pwa.sign_in("doctor")
    wait_for_worker(page)
    pwa.goto(f"/patients/{SHELL_PATIENT}/capture?issuer=PCDEMO")
    expect(page.get_by_role("region", name="Patient")).to_contain_text(SHELL_PATIENT)
    answer_consent(page)
    page.locator("#file").set_input_files(photo_path())
    page.get_by_label("Body site").select_option("14975008")
    page.locator("label", has_text=re.compile(r"^Left$")).click()
    page.get_by_role("button", name="Send photo").click()
    expect(page.locator(".outcome-stored")).to_be_visible()
    page.get_by_role("link", name="Review all photos").click()
    thumbnail = page.locator(".photo-card img").first
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    page.locator(".photo-card a").first.click()
    expect(page.locator(".photo-figure img")).to_have_js_property("complete", True)
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")

    caches = cached(page)
    assert len(caches) == 1, caches
    [(name, urls)] = caches.items()
    assert re.fullmatch(r"pointcare-shell-[\w.]+-[0-9a-f]{12}", name)
    assert "/offline" in urls and "/static/css/app.css" in urls
    for url in urls:
        assert url == "/offline" or url.startswith("/static/"), url
        assert not re.match(r"/(patients|api|dicomweb|bedside)(/|$)", url), url
        assert "?" not in url, url
    stored = page.evaluate(
        """async () => {
          const cache = await caches.open((await caches.keys())[0]);
          const types = [];
          for (const request of await cache.keys()) {
            types.push((await cache.match(request)).headers.get('content-type') || '');
          }
          return types;
        }"""
    )
    assert not [t for t in stored if t.startswith(("image/jpeg", "application/dicom"))], stored


def test_offline_pages_get_the_offline_page(pwa: Visit) -> None:
    page = pwa.page
    pwa.goto("/login")
    wait_for_worker(page)
    page.context.set_offline(True)
    try:
        pwa.goto(f"/patients/{SHELL_PATIENT}?issuer=PCDEMO")
        expect(page.get_by_role("heading", name="No connection to Pointcare")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text(SHELL_PATIENT)
        expect(page.get_by_role("link", name="Try again")).to_be_visible()
        # The shell's stylesheet comes from the cache: the page is styled, not bare HTML.
        assert page.evaluate(
            "() => getComputedStyle(document.body).fontFamily.includes('system-ui')"
        )
        pwa.check("offline")
    finally:
        page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page).not_to_have_url(re.compile(r"/offline"))
    expect(page.get_by_role("heading", name="No connection to Pointcare")).to_have_count(0)


def test_the_shell_files_are_served_with_the_right_types(pwa: Visit) -> None:
    page = pwa.page
    pwa.goto("/login")
    manifest = page.request.get(pwa.base_url + "/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    worker = page.request.get(pwa.base_url + "/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "default-src 'self'" in worker.headers["content-security-policy"]
