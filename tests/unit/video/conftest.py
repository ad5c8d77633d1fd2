"""Clips recorded by Chromium for the video tests, once per session (and worker); the clips
ffmpeg makes and the normaliser come from the root conftest."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from pointcare.video.clip import ClipNormaliser
from pointcare.video.tools import VideoTools
from tests.support.clips import RECORDED_TYPES, record_in_chromium, secure_blank_page
from tests.support.loop import in_own_thread
from tests.support.tools import require_tool


@pytest.fixture(scope="session")
def tools(clip_normaliser: ClipNormaliser) -> VideoTools:
    return clip_normaliser.tools


@pytest.fixture(scope="session")
def recorded() -> dict[str, bytes]:
    """Two seconds of Chromium's fake camera, recorded by MediaRecorder in each type it offers.

    Recorded in a thread of its own, where a second Playwright can start."""
    return in_own_thread(_record_each_type, require_tool("chromium"))


def _record_each_type(executable: str) -> dict[str, bytes]:
    with sync_playwright() as playwright, secure_blank_page() as url:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--disable-gpu",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(url)
            return {mime: record_in_chromium(page, mime) for mime in RECORDED_TYPES}
        finally:
            browser.close()
