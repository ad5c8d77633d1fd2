"""Finding the patient at the bedside in a real Chromium: a wristband shown to a fake camera is
scanned, the patient confirmed and consent recorded; without a camera, typed MRN and search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, Playwright, Route, expect

from tests.e2e.conftest import CHROMIUM_ARGS, DESKTOP, Visit, _visit
from tests.support.server import LiveServer
from tests.support.tools import require_tool

FRAME = (640, 480)
CONFIRM = re.compile(r"/bedside/confirm\?mrn=PC100004&issuer=PCDEMO$")
SESSION = re.compile(r"/bedside/sessions/[0-9a-f-]{36}$")
WRISTBAND_READS = "**/api/v1/wristbands/*"


def wristband_video(folder: Path, text: str) -> Path:
    """A one-frame Y4M (it loops) of a white wristband label carrying a Code 128 of ``text``."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    code = Image.fromarray(barcode.to_image(scale=4)).convert("L")
    frame = Image.new("L", FRAME, 235)
    frame.paste(code, ((FRAME[0] - code.width) // 2, (FRAME[1] - code.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    path = folder / "wristband.y4m"
    header = f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(header + b"FRAME\n" + planes)
    return path


@pytest.fixture(scope="module")
def camera_chromium(
    playwright_session: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """A Chromium of its own whose camera films the wristband of Andersson, Eva (PC100004)."""
    video = wristband_video(tmp_path_factory.mktemp("camera"), "PC100004")
    browser = playwright_session.chromium.launch(
        executable_path=require_tool("chromium"),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture(params=["pixel7", "desktop"])
def camera_screen(
    request: pytest.FixtureRequest,
    camera_chromium: Browser,
    playwright_session: Playwright,
    live_server: LiveServer,
    axe: Axe,
) -> Iterator[Visit]:
    device: str = request.param
    options = playwright_session.devices["Pixel 7"] if device == "pixel7" else DESKTOP
    context = camera_chromium.new_context(**options)
    try:
        yield _visit(context, live_server, axe, device)
    finally:
        context.close()


def test_the_wristband_is_scanned_confirmed_and_consent_recorded(camera_screen: Visit) -> None:
    page = camera_screen.page
    camera_screen.sign_in("nurse")
    entry = page.get_by_role("link", name=re.compile("Bedside capture"))
    expect(entry).to_be_visible()
    entry.click()
    # The live viewfinder, before a frame is read: the reads are held until it has been checked
    # (else a quick read navigates away while the screenshot is taken).
    held: list[Route] = []
    holding = [True]

    def hold_while_checking(route: Route) -> None:
        if holding[0]:
            held.append(route)
        else:
            route.continue_()

    page.route(WRISTBAND_READS, hold_while_checking)
    expect(page.get_by_role("heading", name="Scan wristband")).to_be_visible()
    camera_screen.check("bedside-scan")
    holding[0] = False
    for route in held:
        route.continue_()
    page.wait_for_url(CONFIRM, timeout=20_000)

    card = page.locator(".confirm-card")
    expect(card).to_contain_text("ANDERSSON, Eva")
    expect(card).to_contain_text("09 May 1962")
    expect(card).to_contain_text("PC100004")
    expect(card).to_contain_text("V24-000104")
    expect(card).to_contain_text("Another patient has the same name")
    camera_screen.check("bedside-confirm")
    page.get_by_role("button", name="This is the patient").click()

    page.wait_for_url(re.compile(r"/consent$"))
    expect(page.get_by_role("region", name="Patient")).to_contain_text("ANDERSSON")
    page.get_by_role("button", name="Start photographing").click()
    expect(page.locator(".form-problem")).to_be_visible()  # nothing answered yet
    camera_screen.check("bedside-consent-errors")
    page.locator("label[for=consent_clinical-yes]").click()
    page.locator("label[for=consent_teaching-yes]").click()
    page.locator("label[for=consent_publication-no]").click()
    page.locator("label[for=consent_method-written]").click()
    camera_screen.check("bedside-consent")
    page.get_by_role("button", name="Start photographing").click()

    page.wait_for_url(SESSION)
    expect(page.get_by_role("region", name="Patient")).to_contain_text("PC100004")
    page.goto(page.url + "/summary")
    expect(page.locator(".summary-card")).to_contain_text("No photo was stored")
    camera_screen.check("bedside-summary")
    page.get_by_role("button", name="Next patient").click()
    page.wait_for_url(re.compile(r"/bedside$"))
    camera_screen.assert_no_console_errors()


def test_without_a_camera_the_reason_shows_and_a_typed_mrn_works(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("nurse")
    phone.goto("/bedside")
    expect(page.locator("[data-scan-problem]")).to_contain_text("camera")
    expect(page.get_by_role("button", name="Try the camera again")).to_be_visible()
    phone.check("bedside-scan-no-camera")
    page.get_by_label("MRN (hospital number on the wristband)").fill("PC100001")
    page.get_by_role("button", name="Find by MRN").click()
    page.wait_for_url(re.compile(r"/bedside/confirm\?mrn=PC100001&issuer=PCDEMO$"))
    expect(page.locator(".confirm-card")).to_contain_text("ÖBERG, Åsa")
    expect(page.locator(".confirm-card")).not_to_contain_text("same name")
    page.get_by_role("link", name="Not this patient").click()
    page.wait_for_url(re.compile(r"/bedside$"))


def test_search_by_name_and_birth_date_leads_to_the_card(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("nurse")
    phone.goto("/bedside")
    page.get_by_label("Name").fill("Andersson Eva")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator("#results")
    expect(results).to_contain_text("2 patients found")
    phone.check("bedside-search-results")
    page.get_by_role("link", name=re.compile("Choose Eva ANDERSSON, born 23 Jan 1985|1985")).click()
    page.wait_for_url(re.compile(r"/bedside/confirm\?mrn=PC100005&issuer=PCDEMO$"))
    expect(page.locator(".confirm-card")).to_contain_text("23 Jan 1985")
