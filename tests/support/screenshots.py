"""Every page of the tour photographed on a phone, a tablet and a desktop, for a person to look
at: ``make screenshots`` (or ``python -m tests.support.screenshots [folder]``).

A fresh ``pointcare serve --demo`` is started on a free port, so the pages show the demo's
photo histories; the pictures go to ``var/screenshots`` by default, named ``<page>-<device>.png``
(what the screen shows first) and ``<page>-<device>-full.png`` (the whole page).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.server import LiveServer
from tests.support.tools import REPO_ROOT
from tests.support.tour import DEVICES, STOPS, walk

SHOT_DEVICES = ("phone", "tablet", "desktop")


def photograph(folder: Path, devices: list[str]) -> int:
    """Photographs every stop on each device into ``folder``; returns the number of files."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is needed: run `make system-packages`")
    folder.mkdir(parents=True, exist_ok=True)
    backend = str(REPO_ROOT / "backend")
    path = os.pathsep.join(p for p in (backend, str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    written = 0
    with (
        LiveServer(demo=True, env={"POINTCARE_HTMX_SRC": "local", "PYTHONPATH": path}) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for device in devices:
                for stop, page in walk(browser, DEVICES[device], server.url):
                    for suffix, full_page in (("", False), ("-full", True)):
                        page.screenshot(
                            path=str(folder / f"{stop.name}-{device}{suffix}.png"),
                            full_page=full_page,
                            caret="initial",  # hiding the caret injects a style the CSP blocks
                        )
                        written += 1
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO_ROOT / "var" / "screenshots")
    parser.add_argument("--device", action="append", choices=SHOT_DEVICES, dest="devices")
    args = parser.parse_args(argv)
    devices = args.devices or list(SHOT_DEVICES)
    written = photograph(args.folder, devices)
    print(f"{written} screenshots of {len(STOPS)} pages in {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
