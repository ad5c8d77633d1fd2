"""Browser tests: one system Chromium for the session, a fresh context (phone or desktop) per test,
against a real ``pointcare serve --demo`` on a free port.

Each page a test visits can be checked with axe-core (WCAG 2.1 A and AA) and photographed into
``POINTCARE_SHOTS_DIR`` (default /tmp/pointcare-shots) for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from tests.support import tour
from tests.support.server import LiveServer
from tests.support.tools import REPO_ROOT, missing, require_tool

CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
DESKTOP = {"viewport": {"width": 1440, "height": 900}, "device_scale_factor": 1}
WCAG_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SHOTS_DIR = Path(os.environ.get("POINTCARE_SHOTS_DIR", "/tmp/pointcare-shots"))
FULL_PAGE_SHOTS = os.environ.get("POINTCARE_SHOTS_FULL", "") not in ("", "0")
"""Also photograph whole pages (slower); by default only what the screen shows first."""
HTMX_COPY = REPO_ROOT / "pwa" / "static" / "vendor" / "htmx.min.js"
PASSWORDS = tour.PASSWORDS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@contextmanager
def demo_server(**settings: str) -> Iterator[LiveServer]:
    """A demo server serving the vendored htmx, with these ``POINTCARE_*`` variables."""
    if not HTMX_COPY.exists():
        missing(f"{HTMX_COPY} (run: bash infra/fetch-htmx.sh)")
    backend = str(REPO_ROOT / "backend")
    path = os.pathsep.join(p for p in (backend, str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {"POINTCARE_HTMX_SRC": "local", "PYTHONPATH": path, **settings}
    with LiveServer(demo=True, env=env) as server:
        yield server


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with demo_server() as server:
        yield server


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    executable = require_tool("chromium")
    browser = playwright_session.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def camera_chromium(playwright_session: Playwright) -> Iterator[Browser]:
    """A Chromium whose camera is Chromium's fake device, allowed without asking."""
    yield from _launched(playwright_session, *FAKE_CAMERA_ARGS)


@pytest.fixture(scope="session")
def denying_chromium(playwright_session: Playwright) -> Iterator[Browser]:
    """A Chromium with a camera whose permission prompt is refused (headless: no prompt)."""
    yield from _launched(playwright_session, "--use-fake-device-for-media-stream")


def _launched(playwright: Playwright, *args: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=require_tool("chromium"), args=[*CHROMIUM_ARGS, *args]
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@dataclass
class Visit:
    """A page in one browser context, with the checks every test wants on every screen."""

    page: Page
    base_url: str
    axe: Axe
    device: str
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, username: str) -> None:
        self.goto("/login")
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill(PASSWORDS[username])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(r".*/(\?.*)?$"))

    def check(self, name: str) -> None:
        """Axe (WCAG 2.1 A/AA) must find nothing; then a screenshot for a person to look at."""
        results = self.axe.run(self.page, options=WCAG_A_AA)
        assert results.violations_count == 0, f"{name}: {results.generate_report()}"
        self.shoot(name)

    def shoot(self, name: str) -> None:
        """What the screen shows first, and the whole page."""
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        for suffix, full_page in (("", False), ("-full", True))[: 2 if FULL_PAGE_SHOTS else 1]:
            # caret="initial": hiding the caret injects a <style>, which the CSP (rightly) blocks.
            self.page.screenshot(
                path=str(SHOTS_DIR / f"{name}-{self.device}{suffix}.png"),
                full_page=full_page,
                caret="initial",
            )

    def assert_no_console_errors(self) -> None:
        # A CSP violation (an inline style or script slipping in) shows up here.
        assert self.console_errors == []


def answer_consent(page: Page, *, prefix: str = "", teaching: str = "no") -> None:
    """Answer the four consent questions as a nurse does: the clinical record yes, teaching as
    given, publication no, verbal."""
    for question, answer in (
        ("consent_clinical", "yes"),
        ("consent_teaching", teaching),
        ("consent_publication", "no"),
        ("consent_method", "verbal"),
    ):
        page.locator(f"label[for={prefix}{question}-{answer}]").click()


def _visit(context: BrowserContext, server: LiveServer, axe: Axe, device: str) -> Visit:
    page = context.new_page()
    visit = Visit(page, server.url, axe, device)

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        # htmx logs the 4xx answers it swaps in on purpose (responseHandling error: true).
        if message.type == "error" and "Failed to load resource" not in text:
            visit.console_errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.console_errors.append(str(error)))
    return visit


def _context(chromium: Browser, playwright: Playwright, device: str) -> BrowserContext:
    if device == "pixel7":
        return chromium.new_context(**playwright.devices["Pixel 7"])
    if device == "pixel7-dark":
        return chromium.new_context(**playwright.devices["Pixel 7"], color_scheme="dark")
    return chromium.new_context(**DESKTOP)  # type: ignore[arg-type]


@pytest.fixture
def phone(
    chromium: Browser, playwright_session: Playwright, live_server: LiveServer, axe: Axe
) -> Iterator[Visit]:
    context = _context(chromium, playwright_session, "pixel7")
    try:
        yield _visit(context, live_server, axe, "pixel7")
    finally:
        context.close()


@pytest.fixture(params=["pixel7", "desktop", "pixel7-dark"])
def screen(
    request: pytest.FixtureRequest,
    chromium: Browser,
    playwright_session: Playwright,
    live_server: LiveServer,
    axe: Axe,
) -> Iterator[Visit]:
    """A Pixel 7, a 1440 x 900 desktop and a Pixel 7 in dark mode, in turn."""
    device: str = request.param
    context = _context(chromium, playwright_session, device)
    try:
        yield _visit(context, live_server, axe, device)
    finally:
        context.close()
