"""At the desk, in Chromium: add many files at once (photos, a PDF, a broken file), compare
photos with zoom kept in step, export, change consent and correct a photo; every screen is
checked with axe and photographed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Playwright, expect

from tests.e2e.conftest import DESKTOP, Visit, _visit, answer_consent
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import a_pdf

PATIENT = "/patients/PC100019?issuer=PCDEMO"
"""NÚÑEZ, Inés: no other browser test stores photos for her."""
FOREARM = "14975008"


@pytest.fixture
def desk(
    chromium: Browser, playwright_session: Playwright, live_server: LiveServer, axe: Axe
) -> Iterator[Visit]:
    context = chromium.new_context(**DESKTOP)  # type: ignore[arg-type]
    try:
        visit = _visit(context, live_server, axe, "desktop")
        visit.sign_in("doctor")
        yield visit
    finally:
        context.close()


def _store(desk: Visit, day: int, laterality: str = "L") -> str:
    """A photo of the patient's left forearm, sent through the API as this signed-in page."""
    desk.goto(PATIENT)
    token = desk.page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = desk.page.request.post(
        desk.base_url + "/api/v1/photos",
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
        multipart={
            "patient_id": "PC100019",
            "issuer": "PCDEMO",
            "body_site": FOREARM,
            "laterality": laterality,
            "view": "close-up",
            "capture_id": str(uuid.uuid4()),
            "captured_at": f"2026-05-{day:02d}T10:00:00+02:00",
            "allow_duplicate": "true",
            **CLINICAL_ONLY,
            "file": {
                "name": "wound.jpg",
                "mimeType": "image/jpeg",
                "buffer": corpus("photos", "gps", "DSCN0010.jpg").read_bytes(),
            },
        },
    )
    assert answer.status == 201, answer.text()
    return str(answer.json()["sop_instance_uid"])


def _photo_count(desk: Visit) -> int:
    desk.goto(PATIENT)
    heading = desk.page.locator("h1", has_text="Photos").inner_text()
    found = re.search(r"\((\d+)\)", heading)
    assert found, heading
    return int(found.group(1))


def test_many_files_at_once_with_progress_and_a_clear_failure(desk: Visit, tmp_path: Path) -> None:
    before = _photo_count(desk)
    pdf = tmp_path / "Signed consent form.pdf"
    pdf.write_bytes(a_pdf("Consent for clinical photography"))
    desk.goto(PATIENT.replace("?", "/upload?"))
    page = desk.page
    page.get_by_label("Body site", exact=True).select_option(FOREARM)
    page.get_by_label("Left", exact=True).check()
    page.locator("#desk-files").set_input_files([str(corpus("photos", "gps", "DSCN0010.jpg"))])
    page.get_by_role("button", name="Send all").click()
    expect(page.locator("[data-summary]")).to_contain_text("Answer every consent question")
    expect(page.locator(".desk-row")).to_have_attribute("data-state", "ready")
    answer_consent(page, prefix="desk-")
    page.locator(".desk-row [data-remove]").click()
    page.locator("#desk-files").set_input_files(
        [
            str(corpus("photos", "gps", "DSCN0010.jpg")),
            str(corpus("photos", "heic", "iphone_13_pro_max.heic")),
            str(corpus("photos", "invalid", "truncated.heic")),
            str(pdf),
        ]
    )
    expect(page.locator(".desk-row")).to_have_count(4)
    desk.check("desk-upload-chosen")
    page.get_by_role("button", name="Send all").click()
    rows = page.locator(".desk-row")
    expect(rows.nth(0)).to_have_attribute("data-state", "stored", timeout=30_000)
    expect(rows.nth(1)).to_have_attribute("data-state", "stored", timeout=30_000)
    expect(rows.nth(3)).to_have_attribute("data-state", "stored", timeout=30_000)
    expect(rows.nth(2)).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(rows.nth(2).locator("[data-status]")).to_contain_text("not")
    desk.check("desk-upload-sent")
    desk.assert_no_console_errors()
    # Two photos more; the PDF is listed under Documents and opens as a PDF.
    assert _photo_count(desk) == before + 2
    document = desk.page.get_by_role("link", name="Signed consent form")
    expect(document).to_be_visible()
    answer = desk.page.request.get(desk.base_url + document.get_attribute("href"))
    assert answer.status == 200 and answer.body().startswith(b"%PDF-")


def test_compare_keeps_zoom_in_step_and_loads_full_resolution(desk: Visit) -> None:
    _store(desk, 2)
    latest = _store(desk, 16)
    desk.goto(PATIENT.replace("?", "/compare?") + f"&photo={latest}")
    page = desk.page
    stages = page.locator("[data-zoom-stage] img")
    assert stages.count() >= 2
    desk.check("compare")
    page.locator("[data-zoom-stage]").first.hover()
    for _ in range(4):
        page.mouse.wheel(0, -200)
    transforms = [stages.nth(i).evaluate("el => el.style.transform") for i in range(2)]
    assert transforms[0] == transforms[1] and "scale(" in transforms[0]
    assert "scale(1)" not in transforms[0]
    # Past 1.5x the full-resolution rendering replaces the screen-sized one.
    expect(stages.first).not_to_have_attribute("src", re.compile(r"viewport="))
    page.get_by_role("button", name="Reset").click()
    assert stages.first.evaluate("el => el.style.transform").endswith("scale(1)")
    desk.assert_no_console_errors()


def test_export_consent_and_correction_screens(desk: Visit) -> None:
    uid = _store(desk, 20, laterality="R")
    desk.goto(PATIENT)
    desk.page.get_by_role("link", name="Export").click()
    desk.check("export")
    desk.goto(PATIENT)
    # The photo this test stored: others (a sensitive one, sealed here) may come first on the
    # timeline, since this one is filed at the day its EXIF says it was taken.
    desk.page.locator(f'.photo-link[href*="{uid}"]').click()
    photo_url = desk.page.url
    # The viewer: keys zoom the focused photo, which then loads its full resolution.
    stage = desk.page.locator("[data-zoom-stage]")
    stage.focus()
    for _ in range(3):
        desk.page.keyboard.press("+")
    image = stage.locator("img")
    assert "scale(1.95" in image.evaluate("el => el.style.transform")
    expect(image).not_to_have_attribute("src", re.compile(r"viewport="))
    desk.check("photo-zoomed")
    desk.page.get_by_role("link", name="Change consent").click()
    desk.check("consent")
    desk.page.get_by_label("Teaching", exact=True).check()
    desk.page.get_by_label("Withdraws consent").check()
    desk.page.get_by_label("Written", exact=True).check()
    desk.page.get_by_role("button", name="Record the change").click()
    expect(desk.page.get_by_role("status")).to_contain_text("recorded")
    desk.page.goto(photo_url)
    desk.page.get_by_role("link", name="Correct a mistake").click()
    desk.check("correct")
    desk.page.get_by_label("Filed to the wrong patient").check()
    desk.page.get_by_label("MRN of the right patient").fill("PC100018")
    desk.page.get_by_label("Why").fill("Photographed with the neighbour's wristband")
    desk.page.get_by_role("button", name="Correct").click()
    expect(desk.page.get_by_text("TRẦN, Văn Đức")).to_be_visible()
    desk.check("correct-confirm")
    desk.page.get_by_label("I checked name, birth date and MRN").check()
    desk.page.get_by_role("button", name="Move to this patient").click()
    expect(desk.page.get_by_role("heading", name=re.compile("Moved to TRẦN"))).to_be_visible()
    desk.check("corrected")
    desk.assert_no_console_errors()


def test_each_file_shows_when_it_was_taken_and_whether_it_is_already_stored(
    desk: Visit, tmp_path: Path
) -> None:
    _store(desk, 3)  # DSCN0010.jpg, already in the record
    undated = tmp_path / "scan-of-old-print.jpg"
    undated.write_bytes(corpus("photos", "orientation", "portrait_6.jpg").read_bytes())
    desk.goto(PATIENT.replace("?", "/upload?"))
    page = desk.page
    # No consent question starts answered.
    expect(page.locator("[data-consent] input[type=radio]:checked")).to_have_count(0)
    page.locator("#desk-files").set_input_files(
        [
            str(corpus("photos", "gps", "DSCN0010.jpg")),
            str(undated),
            str(corpus("photos", "heic", "iphone_13_pro_max.heic")),
        ]
    )
    rows = page.locator(".desk-row")
    expect(rows.nth(0).locator("[data-already]")).to_contain_text("Already stored on")
    expect(rows.nth(0)).to_have_attribute("data-state", "already")
    expect(rows.nth(1).locator("[data-date-field]")).to_contain_text("Date not in the photo")
    expect(rows.nth(1).locator("[data-row-date]")).not_to_have_value("")
    expect(rows.nth(2).locator("[data-when]")).to_contain_text("(from the photo)")
    expect(rows.nth(2).locator("[data-when]")).to_contain_text("2022")
    thumb = rows.nth(2).locator("[data-thumb]")  # a HEIC: the server's preview
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.naturalWidth") > 0
    desk.check("desk-upload-dates")
    # The undated photo is filed at the date the user checks.
    rows.nth(1).locator("[data-row-date]").fill("2019-06-02T09:30:00")
    rows.nth(2).locator("[data-remove]").click()
    page.get_by_label("Body site", exact=True).select_option(FOREARM)
    page.get_by_label("Left", exact=True).check()
    answer_consent(page, prefix="desk-")
    page.get_by_role("button", name="Send all").click()
    expect(rows.nth(1)).to_have_attribute("data-state", "stored", timeout=30_000)
    expect(rows.nth(0)).to_have_attribute("data-state", "already")
    desk.goto(PATIENT)
    expect(page.locator(".day").filter(has_text="2 June 2019")).to_have_count(1)
    desk.assert_no_console_errors()
