"""The Content-Security-Policy in a real Chromium: the pinned htmx file from the CDN runs (its
SRI checked), any other file of the same CDN is blocked before it is even requested.

The page and both CDN files are served by the test (``page.route``): no network is needed."""

from __future__ import annotations

from playwright.sync_api import Browser, Route

from pointcare.web.assets import HTMX_CDN_URL, HTMX_SRI, htmx_source
from pointcare.web.headers import content_security_policy
from tests.e2e.conftest import HTMX_COPY
from tests.support.tools import missing

PAGE = "https://pointcare.test/"
OTHER_PACKAGE = "https://cdn.jsdelivr.net/npm/left-pad@1.3.0/index.js"


def test_only_the_pinned_htmx_file_runs_from_the_cdn(chromium: Browser) -> None:
    if not HTMX_COPY.exists():
        missing(f"{HTMX_COPY} (run: bash infra/fetch-htmx.sh)")
    policy = content_security_policy(htmx_source("cdn"))
    html = f"""<!doctype html><html><head><title>csp</title>
<script src="{HTMX_CDN_URL}" integrity="{HTMX_SRI}" crossorigin="anonymous"></script>
<script src="{OTHER_PACKAGE}"></script></head><body>page</body></html>"""
    requested: list[str] = []

    def serve(route: Route) -> None:
        url = route.request.url
        requested.append(url)
        cors = {"Access-Control-Allow-Origin": "*"}
        if url == PAGE:
            route.fulfill(
                body=html,
                content_type="text/html",
                headers={"Content-Security-Policy": policy},
            )
        elif url == HTMX_CDN_URL:
            route.fulfill(body=HTMX_COPY.read_bytes(), content_type="text/javascript", headers=cors)
        else:
            route.fulfill(body="window.otherRan = true;", content_type="text/javascript")

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.route("**/*", serve)
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text))
        page.goto(PAGE)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.htmx") == "object"  # the pinned file ran
        assert page.evaluate("window.otherRan === undefined")
        assert OTHER_PACKAGE not in requested  # blocked before any request left the browser
        assert any("Content Security Policy" in text and "left-pad" in text for text in violations)
    finally:
        context.close()
