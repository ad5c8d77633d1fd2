"""Photograph every page on the phones, a tablet and a desktop, for a person to look at.

    PYTHONPATH=backend python infra/screenshots.py [OUT_DIR]   # default: var/screens

Starts ``pointcare serve --demo`` (tests/support/server.py), stores one photo, opens a bedside
session through its own screens, then shoots each page on Pixel 7 and iPhone 13 (portrait and
landscape), iPad (810 x 1080 @2) and a 1440 x 900 desktop. A page that cannot be reached is
reported and the others still shot.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.server import LiveServer  # noqa: E402

PATIENT = "PC100002"
CONFIRM = f"/bedside/confirm?mrn={PATIENT}&issuer=PCDEMO"
PHOTO = REPO.parent / "shared" / "corpus" / "photos" / "gps" / "DSCN0010.jpg"
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


def devices(playwright: Any) -> dict[str, dict[str, Any]]:
    def phone(name: str, landscape: bool) -> dict[str, Any]:
        device = {k: v for k, v in playwright.devices[name].items() if k != "default_browser_type"}
        if landscape:
            size = device["viewport"]
            device["viewport"] = {"width": size["height"], "height": size["width"]}
        return device

    return {
        "pixel7": phone("Pixel 7", False),
        "pixel7-landscape": phone("Pixel 7", True),
        "iphone13": phone("iPhone 13", False),
        "iphone13-landscape": phone("iPhone 13", True),
        "ipad": {
            "viewport": {"width": 810, "height": 1080},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        },
        "desktop": {"viewport": {"width": 1440, "height": 900}, "device_scale_factor": 1},
    }


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def store_photo(page: Page, base: str) -> None:
    page.goto(f"{base}/patients/{PATIENT}/capture?issuer=PCDEMO")
    page.locator("#file").set_input_files(str(PHOTO))
    page.get_by_label("Body site").select_option("14975008")
    page.locator("label", has_text=re.compile(r"^Left$")).click()
    page.get_by_role("button", name="Send photo").click()
    page.locator(".outcome-stored").wait_for()


def bedside_session(page: Page, base: str) -> str:
    """Confirm the patient and record consent on the bedside screens; the capture page URL."""
    page.goto(base + CONFIRM)
    page.locator('form[action="/bedside/sessions"] [type=submit]').first.click()
    page.wait_for_url(re.compile(r"/consent$"))
    for name, value in (("consent_clinical", "yes"), ("consent_method", "verbal")):
        page.locator(f"input[name={name}][value={value}]").check(force=True)
    page.locator("form.consent-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/bedside/sessions/[^/]+$"))
    return page.url


class Shooter:
    """Screenshots of one device; a page that fails is noted in ``problems``, not fatal."""

    def __init__(self, page: Page, device: str, out: Path, problems: list[str]) -> None:
        self.page, self.device, self.out, self.problems = page, device, out, problems

    def shot(self, name: str, go: Callable[[Page], object]) -> bool:
        try:
            go(self.page)
            self.page.wait_for_load_state("networkidle")
            path = self.out / f"{name}-{self.device}.png"
            self.page.screenshot(path=str(path), caret="initial")
        except Exception as exc:
            self.problems.append(f"{self.device} {name}: {str(exc).splitlines()[0]}")
            return False
        return True


def shoot_all(browser: Browser, server: LiveServer, out: Path, playwright: Any) -> list[str]:
    problems: list[str] = []
    base = server.url
    desk = f"{base}/patients/{PATIENT}"
    for device, options in devices(playwright).items():
        context = browser.new_context(**options)
        shooter = Shooter(context.new_page(), device, out, problems)
        shooter.shot("login", lambda page: page.goto(base + "/login"))
        sign_in(shooter.page, base, "doctor", "doctor-demo-pass")
        shooter.shot("home", lambda page: page.goto(base + "/"))
        shooter.shot("capture-desk", lambda page: page.goto(f"{desk}/capture?issuer=PCDEMO"))
        shooter.shot("review", lambda page: page.goto(f"{desk}?issuer=PCDEMO"))
        shooter.shot("photo", lambda page: page.locator(".photo-card a").first.click())
        shooter.shot("bedside-scan", lambda page: page.goto(base + "/bedside"))
        shooter.shot("bedside-confirm", lambda page: page.goto(f"{base}{CONFIRM}"))
        if shooter.shot("bedside-capture", lambda page: bedside_session(page, base)):
            shooter.shot("bedside-summary", lambda page: page.goto(page.url + "/summary"))
        shooter.shot("offline", lambda page: page.goto(base + "/offline"))
        context.close()
        admin = browser.new_context(**options)
        shooter = Shooter(admin.new_page(), device, out, problems)
        sign_in(shooter.page, base, "admin", "admin-demo-pass")
        shooter.shot("admin-deliveries", lambda page: page.goto(base + "/admin/deliveries"))
        admin.close()
    return problems


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "var" / "screens"
    out.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(filter(None, [str(REPO / "backend"), os.environ.get("PYTHONPATH")]))
    env = {"POINTCARE_HTMX_SRC": "local", "PYTHONPATH": path}
    with LiveServer(demo=True, env=env) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        setup = browser.new_page()
        sign_in(setup, server.url, "doctor", "doctor-demo-pass")
        store_photo(setup, server.url)
        setup.close()
        problems = shoot_all(browser, server, out, playwright)
        browser.close()
    print(f"screenshots in {out}")
    for problem in problems:
        print(f"not shot: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
