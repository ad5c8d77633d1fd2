"""How long the OHIF viewer takes to show a 50-photo study from Pointcare's archive.

    python -m tests.bench.viewer [--photos 50] [--repeat 5]

A demo server gets 50 phone photos (the corpus's three phones in turn, one study of one day);
Chromium (one per run, a fresh profile: nothing cached) signs in as the doctor and opens the
study in /viewer/. Figures, from the moment the viewer's page is asked for:

* ``first_image_s``: the first photo drawn (OHIF's own "studyToFirstImage" mark);
* ``thumbnails_s``: every series thumbnail in the study browser answered;
* ``frames``: how many frames the viewer fetched, and ``frames_all_s`` when the last came;
* ``warm_first_image_s``: the same again in the same browser (the viewer's files cached).

Writes var/bench/viewer.json and prints a Markdown table. Needs ``make viewer``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from pointcare.settings import Settings
from pointcare.web.viewer import installed
from tests.bench.harness import OUT_DIR, bearer_token, machine
from tests.e2e.conftest import CHROMIUM_ARGS, DESKTOP, PASSWORDS
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.tools import CORPUS_DIR

PATIENT = "PC100020"
PHONES = ("iphone_hdr.jpg", "jolla.jpg", "nokia_8_3.jpg")


def store_study(server: LiveServer, count: int) -> str:
    """``count`` photos of one patient on one day: one study. Its Study Instance UID."""
    token = bearer_token(server.data_dir, "nurse")
    photos = [(CORPUS_DIR / "photos" / "phone" / name).read_bytes() for name in PHONES]
    studies = set()
    with httpx.Client(base_url=server.url, trust_env=False, timeout=120) as http:
        for index in range(count):
            answer = http.post(
                "/api/v1/photos",
                data={
                    "patient_id": PATIENT,
                    "body_site": "14975008",
                    "laterality": "L",
                    "capture_id": str(uuid.uuid4()),
                    "captured_at": f"2024-02-01T10:{index // 60:02d}:{index % 60:02d}+01:00",
                    "allow_duplicate": "true",  # three phones' photos, in turn
                    **CLINICAL_ONLY,
                },
                files={"file": ("photo.jpg", photos[index % len(photos)], "image/jpeg")},
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            studies.add(answer.json()["study_instance_uid"])
    [study] = studies
    return study


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("User name").fill("doctor")
    page.get_by_label("Password").fill(PASSWORDS["doctor"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def one_load(page: Page, url: str, photos: int) -> dict[str, float]:
    """Open the study; seconds until its first image, its thumbnails and its frames came."""
    marks: dict[str, float] = {}
    frames: list[float] = []
    thumbnails: list[float] = []

    def on_response(response: Any) -> None:
        if "/frames/" in response.url:
            frames.append(time.monotonic())
        elif "/thumbnail" in response.url:
            thumbnails.append(time.monotonic())

    def on_console(message: Any) -> None:
        if message.text.startswith("studyToFirstImage"):
            marks["first"] = time.monotonic()

    page.on("response", on_response)
    page.on("console", on_console)
    start = time.monotonic()
    page.goto(url)
    deadline = start + 120
    while "first" not in marks and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_timeout(5_000)  # let thumbnails and any prefetch finish
    page.remove_listener("response", on_response)
    page.remove_listener("console", on_console)
    return {
        "first_image_s": marks.get("first", float("nan")) - start,
        "thumbnails_s": (max(thumbnails) - start) if thumbnails else float("nan"),
        "frames": float(len(frames)),
        "frames_all_s": (max(frames) - start) if frames else float("nan"),
    }


def run(photos: int, repeat: int) -> dict[str, Any]:
    if not installed(Settings()):
        raise SystemExit("the OHIF viewer is not installed: make viewer")
    with LiveServer(demo=True, env={"POINTCARE_HTMX_SRC": "local"}) as server:
        started = time.monotonic()
        study = store_study(server, photos)
        stored_s = time.monotonic() - started
        link = f"{server.url}/viewer/viewer?StudyInstanceUIDs={study}"
        cold: list[dict[str, float]] = []
        warm: list[dict[str, float]] = []
        with sync_playwright() as playwright:
            for _ in range(repeat):
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                try:
                    page = browser.new_context(**DESKTOP).new_page()  # type: ignore[arg-type]
                    sign_in(page, server.url)
                    cold.append(one_load(page, link, photos))
                    warm.append(one_load(page, link, photos))
                finally:
                    browser.close()
    return {
        "photos": photos,
        "repeat": repeat,
        "stored_s": stored_s,
        "cold": {key: _median(cold, key) for key in cold[0]},
        "warm_first_image_s": _median(warm, "first_image_s"),
        "runs": {"cold": cold, "warm": warm},
        "machine": machine(),
    }


def _median(runs: Sequence[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.photos, args.repeat)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    Path(OUT_DIR / "viewer.json").write_text(json.dumps(result, indent=2))
    cold = result["cold"]
    print(f"| OHIF, {args.photos}-photo study, median of {args.repeat} | seconds |")
    print("|---|---|")
    print(f"| first photo drawn (nothing cached) | {cold['first_image_s']:.2f} |")
    print(f"| every thumbnail answered | {cold['thumbnails_s']:.2f} |")
    print(f"| frames fetched: {cold['frames']:.0f}, the last at | {cold['frames_all_s']:.2f} |")
    print(f"| first photo drawn (viewer's files cached) | {result['warm_first_image_s']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
