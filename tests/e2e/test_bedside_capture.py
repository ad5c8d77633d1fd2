"""The bedside capture screen in a real Chromium: camera (fake device) or file input, tag sheet
and body map, upload queue with retries, idle lock, leave guard, and nothing left on the device.

Each test reaches the screen the way a nurse does, minus the wristband: the confirmation card
(``/bedside/confirm?mrn=...``), "This is the patient", consent, then the camera. What was stored
is read back from the server's archive folder with pydicom.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pydicom
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Dialog, Locator, Page, Playwright, Route, expect

from pointcare.domain.consent import DistributionType
from pointcare.domain.views import View
from tests.e2e.conftest import DESKTOP, PASSWORDS, Visit, _visit, demo_server
from tests.support.server import LiveServer
from tests.support.tools import corpus

FOREARM, SACRUM, BUTTOCK, PERINEUM = "14975008", "54735007", "46862004", "38864007"
LOCK_SECONDS = 3
SESSION_URL = re.compile(r"/bedside/sessions/[0-9a-f-]+$")


def _devices(playwright: Playwright) -> dict[str, dict[str, object]]:
    return {
        "pixel7": dict(playwright.devices["Pixel 7"]),
        "iphone13": {**playwright.devices["iPhone 13"], "viewport": {"width": 390, "height": 844}},
        "ipad": dict(playwright.devices["iPad (gen 7)"]),
        "desktop": dict(DESKTOP),
    }


@pytest.fixture(scope="module")
def locking_server() -> Iterator[LiveServer]:
    """A server of its own whose capture screen locks after a few idle seconds."""
    with demo_server(POINTCARE_IDLE_LOCK_SECONDS=str(LOCK_SECONDS)) as server:
        yield server


def _open(
    browser: Browser, playwright: Playwright, server: LiveServer, axe: Axe, device: str
) -> Visit:
    context = browser.new_context(**_devices(playwright)[device])  # type: ignore[arg-type]
    return _visit(context, server, axe, device)


@pytest.fixture
def camera_phone(
    camera_chromium: Browser, playwright_session: Playwright, live_server: LiveServer, axe: Axe
) -> Iterator[Visit]:
    visit = _open(camera_chromium, playwright_session, live_server, axe, "pixel7")
    try:
        yield visit
    finally:
        visit.page.context.close()


# --- Steps ------------------------------------------------------------------------------------


def start_session(visit: Visit, mrn: str, *, teaching: bool = True) -> None:
    """Sign in as the photographer, confirm the patient, record consent: the camera screen."""
    page = visit.page
    visit.sign_in("nurse")
    visit.goto(f"/bedside/confirm?mrn={mrn}")
    page.get_by_role("button", name="This is the patient").click()
    page.locator("label[for=consent_clinical-yes]").click()
    page.locator(f"label[for=consent_teaching-{'yes' if teaching else 'no'}]").click()
    page.locator("label[for=consent_publication-no]").click()
    page.locator("label[for=consent_method-written]").click()
    page.get_by_role("button", name="Start photographing").click()
    expect(page).to_have_url(SESSION_URL)
    expect(page.get_by_role("region", name="Patient")).to_contain_text(mrn)


def shoot(page: Page) -> None:
    shutter = page.get_by_role("button", name="Take photo")
    expect(shutter).to_be_enabled()
    shutter.click()
    # Encoding a 4K frame without a GPU (--disable-gpu) on a busy runner takes seconds.
    expect(page.locator("[data-shutter]")).not_to_have_attribute(
        "aria-busy", "true", timeout=30_000
    )


MAP_MIDLINE = 76
"""The body map's figure is 152 units wide: the viewer's left half ends here."""


def pick_on_map(page: Page, label: str, *, back: bool = False) -> None:
    sheet = page.locator("[data-tag-sheet]")
    if back:
        sheet.get_by_role("button", name="Back view").click()
    figure = sheet.locator("#map-back" if back else "#map-front")
    figure.get_by_role("button", name=label, exact=True).click()
    expect(sheet.locator("[data-tag-choice]")).to_have_text(f"Chosen: {label}")


def in_view(page: Page, locator: Locator) -> None:
    """The element is entirely on screen without scrolling (the shutter, the banner)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5, (box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, (box, size)


def queue_item(page: Page, number: int = 1) -> Locator:
    return page.locator(".queue-item").nth(number - 1)


def archived(server: LiveServer, mrn: str) -> list[pydicom.Dataset]:
    """Every object the server's archive holds for this patient."""
    root = server.data_dir / "archive" / "objects"
    found: list[pydicom.Dataset] = []
    for path in sorted(root.rglob("*.dcm")) if root.exists() else []:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        if dataset.PatientID == mrn:
            found.append(dataset)
    return found


def storage_left_behind(page: Page) -> dict[str, object]:
    return dict(
        page.evaluate(
            """async () => {
              const caches_ = {};
              for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                const requests = await cache.keys();
                caches_[name] = requests.map((request) => new URL(request.url).pathname);
              }
              return {
                local: localStorage.length,
                session: sessionStorage.length,
                indexeddb: (await indexedDB.databases()).map((db) => db.name),
                opfs: await (async () => {
                  const names = [];
                  const root = await navigator.storage.getDirectory();
                  for await (const name of root.keys()) names.push(name);
                  return names;
                })(),
                caches: caches_,
              };
            }"""
        )
    )


# --- 1. Fake camera: shoot, tag on the body map, send, summary, archive -----------------------

PATIENT_PER_DEVICE = {"pixel7": "PC100006", "iphone13": "PC100007", "ipad": "PC100008"}
PATIENT_PER_DEVICE["desktop"] = "PC100010"


@pytest.mark.parametrize("device", ["pixel7", "iphone13", "ipad", "desktop"])
def test_a_photo_taken_and_tagged_on_the_body_map_is_stored_for_the_patient(
    device: str,
    camera_chromium: Browser,
    playwright_session: Playwright,
    live_server: LiveServer,
    axe: Axe,
) -> None:
    mrn = PATIENT_PER_DEVICE[device]
    visit = _open(camera_chromium, playwright_session, live_server, axe, device)
    page = visit.page
    try:
        start_session(visit, mrn)
        expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
        # The highest resolution the (fake) camera offers, not the 640 x 480 it starts with.
        video_size = page.locator("[data-camera-video]").evaluate(
            "video => [video.videoWidth, video.videoHeight]"
        )
        assert video_size[0] >= 1920, video_size
        # Chromium's fake camera has no torch and one camera: neither button is offered.
        expect(page.locator("[data-camera-torch]")).to_be_hidden()
        expect(page.locator("[data-camera-switch]")).to_be_hidden()
        expect(page.locator("[data-camera-fallback]")).to_be_hidden()
        in_view(page, page.locator("[data-shutter]"))
        in_view(page, page.get_by_role("region", name="Patient"))
        visit.check("bedside-camera")

        shoot(page)
        sheet = page.locator("[data-tag-sheet]")
        expect(sheet).to_be_visible()
        expect(sheet.get_by_role("heading", name="Check the tags of this photo")).to_be_visible()
        expect(sheet.locator(".tag-sheet-patient")).to_contain_text(mrn)
        # Front view: the patient's right forearm is drawn on the viewer's left.
        pick_on_map(page, "Right forearm, front")
        region = sheet.locator('#map-front [data-site="14975008"][data-side="R"]')
        assert region.evaluate("r => r.x.baseVal.value + r.width.baseVal.value") <= MAP_MIDLINE
        expect(sheet.locator("#tag-side-R")).to_be_checked()
        expect(sheet.locator("#tag-side-U")).to_be_disabled()
        sheet.locator("label[for=tag-view-close-up]").click()
        visit.check("bedside-tags")
        sheet.get_by_role("button", name="Send photo").click()

        expect(sheet).to_be_hidden()
        item = queue_item(page)
        expect(item).to_have_attribute("data-state", "stored", timeout=20_000)
        expect(item).to_contain_text("Right forearm")
        expect(item).to_contain_text("Stored")
        # Stored: the pixels are gone from the page (object URL revoked, no src left).
        assert item.locator("img").evaluate("img => img.hasAttribute('src')") is False
        # Next to the shutter, without scrolling: what happened to this session's photos.
        expect(page.locator("[data-queue-summary]")).to_have_text("1 stored")
        in_view(page, page.locator("[data-queue-summary]"))
        expect(
            page.get_by_role("button", name=re.compile("Tags for the next photo"))
        ).to_contain_text("Right forearm, front · Close-up")
        visit.check("bedside-queue-stored")

        page.get_by_role("link", name="Finish").click()
        expect(page).to_have_url(re.compile(r"/summary$"))
        expect(page.locator("main")).to_contain_text("1 photo stored")
        expect(page.locator("main")).to_contain_text("Right forearm")
        visit.assert_no_console_errors()
    finally:
        page.context.close()

    stored = archived(live_server, mrn)
    assert len(stored) == 1
    photo = stored[0]
    assert photo.AnatomicRegionSequence[0].CodeValue == FOREARM
    assert photo.AnatomicRegionSequence[0].CodingSchemeDesignator == "SCT"
    assert photo.ImageLaterality == "R"
    assert [photo.Columns, photo.Rows] == video_size
    consent = {
        (item.get("DistributionType"), item.ConsentForDistributionFlag)
        for item in photo.ConsentForClinicalTrialUseSequence
    }
    assert consent == {(DistributionType.TEACHING.value, "YES")}


INDEX_FINGER, POSTERIOR = "83738005", "255551008"


def test_a_finger_from_the_zoomed_hand_is_stored_with_its_face(
    camera_phone: Visit, live_server: LiveServer
) -> None:
    """On a phone: into the right hand, the index finger, its back; the photo says all three."""
    page = camera_phone.page
    mrn = "PC100014"
    start_session(camera_phone, mrn)
    sheet = page.locator("[data-tag-sheet]")
    shoot(page)
    front = sheet.locator("#map-front")
    front.get_by_role("button", name="Right hand: zoom in to the fingers, thumb and wrist").click()
    hand = sheet.get_by_role("group", name="Right hand, palm side, seen from the front")
    expect(hand).to_be_visible()
    expect(front).to_be_hidden()
    # The palm faces the viewer: the thumb is on the viewer's left, the little finger right.
    thumb = hand.get_by_role("button", name="Right thumb, palm side").bounding_box()
    little = hand.get_by_role("button", name="Right little finger, palm side").bounding_box()
    assert thumb and little and thumb["x"] < little["x"]
    finger = hand.get_by_role("button", name="Right index finger, palm side")
    box = finger.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44
    finger.tap()
    expect(finger).to_have_attribute("aria-pressed", "true")
    expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Right index finger, palm side")
    # The face: the hand's words ("palm side", "back"), and only the faces a finger has.
    aspects = sheet.get_by_role("group", name=re.compile("Aspect"))
    expect(aspects.get_by_role("radio")).to_have_count(3)  # not stated, palm side, back
    expect(aspects.get_by_role("radio", name="Palm side")).to_be_checked()
    aspects.get_by_text("Back", exact=True).tap()
    expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Right index finger, back")
    # Back to the whole body: the hand that holds the finger is marked there.
    hand.get_by_role("button", name="Back to body").tap()
    expect(front).to_be_visible()
    expect(front.locator('[data-map-zoom="hand-R"]')).to_have_class(re.compile("is-chosen"))
    sheet.get_by_role("button", name="Send photo").tap()
    item = queue_item(page)
    expect(item).to_have_attribute("data-state", "stored", timeout=20_000)
    expect(item).to_contain_text("Right index finger, back")
    # The next photo offers it among the recent places, with its side and face.
    shoot(page)
    recent = sheet.locator("[data-recent-sites]")
    expect(recent.get_by_role("button", name="Right index finger, back")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    sheet.get_by_role("button", name="Retake").click()
    expect(sheet).to_be_hidden()
    camera_phone.assert_no_console_errors()

    [photo] = [
        ds
        for ds in archived(live_server, mrn)
        if ds.AnatomicRegionSequence[0].CodeValue == INDEX_FINGER
    ]
    assert photo.ImageLaterality == "R"
    [modifier] = photo.AnatomicRegionSequence[0].AnatomicRegionModifierSequence
    assert (modifier.CodeValue, modifier.CodingSchemeDesignator) == (POSTERIOR, "SCT")


@pytest.mark.parametrize("device", ["pixel7-landscape", "pixel7-dark"])
def test_the_camera_screen_works_sideways_and_in_the_dark(
    device: str,
    camera_chromium: Browser,
    playwright_session: Playwright,
    live_server: LiveServer,
    axe: Axe,
) -> None:
    options: dict[str, object] = (
        dict(playwright_session.devices["Pixel 7 landscape"])
        if device == "pixel7-landscape"
        else {**playwright_session.devices["Pixel 7"], "color_scheme": "dark"}
    )
    visit = _visit(camera_chromium.new_context(**options), live_server, axe, device)  # type: ignore[arg-type]
    page = visit.page
    try:
        start_session(visit, "PC100002")
        expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
        in_view(page, page.locator("[data-shutter]"))
        in_view(page, page.get_by_role("button", name=re.compile("Tags for the next photo")))
        visit.check("bedside-camera")
        shoot(page)
        pick_on_map(page, "Left thigh, front")
        visit.check("bedside-tags")
        visit.assert_no_console_errors()
    finally:
        page.context.close()


def test_tags_carry_over_and_follow_the_sites_rules(
    camera_phone: Visit, live_server: LiveServer
) -> None:
    page = camera_phone.page
    mrn = "PC100011"
    start_session(camera_phone, mrn, teaching=False)
    sheet = page.locator("[data-tag-sheet]")

    # Every region of the map is a labelled button naming a site of the catalogue.
    offered = set(
        sheet.locator("[data-site-list] [data-site]").evaluate_all(
            "bs => bs.map(b => b.dataset.site)"
        )
    )
    regions = sheet.locator("[data-map-view] [data-site]")
    assert regions.count() >= 40
    for site, label in regions.evaluate_all(
        "rs => rs.map(r => [r.dataset.site, r.getAttribute('aria-label') || r.textContent.trim()])"
    ):
        assert site in offered and label

    # Before any tag: the photo waits in the sheet, which refuses to send without a side.
    shoot(page)
    sheet.get_by_label("Search body sites").fill("forearm")
    expect(sheet.locator("[data-site-count]")).to_have_text("1 found")
    sheet.locator("[data-site-list]").get_by_role("button", name="Forearm").click()
    sheet.get_by_role("button", name="Send photo").click()
    expect(sheet.locator("[data-tag-error]")).to_contain_text("Choose the side")
    expect(sheet).to_be_visible()

    # Back view by keyboard: the patient's left is on the viewer's left there.
    sheet.get_by_role("button", name="Back view").click()
    buttock = sheet.locator("#map-back").get_by_role("button", name="Left buttock", exact=True)
    assert buttock.evaluate("r => r.x.baseVal.value + r.width.baseVal.value") <= MAP_MIDLINE
    buttock.focus()
    page.keyboard.press("Enter")
    expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Left buttock")
    sheet.get_by_role("button", name="Send photo").click()
    expect(queue_item(page, 1)).to_have_attribute("data-state", "stored", timeout=20_000)

    # The next photo offers the same tags, shown with its preview: one tap on Send.
    shoot(page)
    expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Left buttock")
    expect(sheet.locator("[data-tag-photos] img")).to_be_visible()
    sheet.get_by_role("button", name="Send photo").click()
    expect(queue_item(page, 2)).to_have_attribute("data-state", "stored", timeout=20_000)
    expect(queue_item(page, 2)).to_contain_text("Left buttock")

    # Changing the tags from the chip: an intimate site turns "sensitive" on for good.
    page.get_by_role("button", name=re.compile("Tags for the next photo")).click()
    expect(sheet.get_by_role("heading", name="Tags for the next photos")).to_be_visible()
    sheet.get_by_label("Search body sites").fill("perin")
    sheet.locator("[data-site-list]").get_by_role("button", name="Perineum").click()
    expect(sheet.locator("#tag-side-U")).to_be_checked()
    sensitive = sheet.get_by_role("switch", name="Sensitive image")
    expect(sensitive).to_be_checked()
    expect(sensitive).to_be_disabled()
    expect(sheet.locator("[data-recent-sites]")).to_contain_text("Left buttock")
    sheet.get_by_role("button", name="Use these tags").click()
    shoot(page)
    expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Perineum")
    sheet.get_by_role("button", name="Send photo").click()
    expect(queue_item(page, 3)).to_have_attribute("data-state", "stored", timeout=20_000)
    camera_phone.assert_no_console_errors()

    stored = archived(live_server, mrn)
    sites = sorted((ds.AnatomicRegionSequence[0].CodeValue, ds.ImageLaterality) for ds in stored)
    assert sites == sorted([(BUTTOCK, "L"), (BUTTOCK, "L"), (PERINEUM, "U")])
    for dataset in stored:
        flags = {
            item.ConsentForDistributionFlag for item in dataset.ConsentForClinicalTrialUseSequence
        }
        assert flags == {"NO"}


# --- 2. No camera: the file input, with the reason ----------------------------------------------


def test_without_camera_permission_the_file_input_takes_over(
    denying_chromium: Browser, playwright_session: Playwright, live_server: LiveServer, axe: Axe
) -> None:
    mrn = "PC100012"
    visit = _open(denying_chromium, playwright_session, live_server, axe, "pixel7")
    page = visit.page
    try:
        start_session(visit, mrn)
        fallback = page.locator("[data-camera-fallback]")
        expect(fallback).to_be_visible()
        expect(fallback).to_contain_text("permission was refused")
        expect(page.get_by_role("button", name="Take photo")).to_be_hidden()
        files = page.locator("#photo-files")
        expect(files).to_have_attribute("capture", "environment")
        expect(files).to_have_attribute("multiple", "")
        visit.check("bedside-fallback")

        heic = corpus("photos", "heic", "iphone_13_pro_max.heic")
        files.set_input_files([str(corpus("photos", "gps", "DSCN0010.jpg")), str(heic)])
        sheet = page.locator("[data-tag-sheet]")
        # Chromium cannot draw the HEIC: a frame says so, never a broken image.
        expect(sheet.locator("[data-tag-photos] img")).to_have_count(1)
        expect(sheet.locator(".tag-sheet-no-preview")).to_have_text("Preview after sending")
        sheet.get_by_label("Search body sites").fill("SACR")
        sheet.locator("[data-site-list]").get_by_role("button", name="Sacrum").click()
        expect(sheet.locator("#tag-side-U")).to_be_checked()
        sheet.get_by_role("button", name="Send 2 photos").click()
        for number in (1, 2):
            expect(queue_item(page, number)).to_have_attribute(
                "data-state", "stored", timeout=30_000
            )
        expect(files).to_have_js_property("value", "")
        visit.assert_no_console_errors()
    finally:
        page.context.close()
    stored = archived(live_server, mrn)
    assert [(ds.AnatomicRegionSequence[0].CodeValue, ds.ImageLaterality) for ds in stored] == [
        (SACRUM, "U"),
        (SACRUM, "U"),
    ]


def test_a_refused_photo_says_why_and_is_not_retried(
    chromium: Browser, playwright_session: Playwright, live_server: LiveServer, axe: Axe
) -> None:
    mrn = "PC100013"
    visit = _open(chromium, playwright_session, live_server, axe, "pixel7")
    page = visit.page
    sent: list[str] = []
    page.on(
        "request",
        lambda request: sent.append(request.url) if request.url.endswith("/photos") else None,
    )
    try:
        start_session(visit, mrn)
        page.locator("#photo-files").set_input_files(
            str(corpus("photos", "invalid", "truncated.heic"))
        )
        sheet = page.locator("[data-tag-sheet]")
        sheet.locator("[data-site-list]").get_by_role("button", name="Chest").click()
        sheet.get_by_role("button", name="Send photo").click()
        item = queue_item(page)
        expect(item).to_have_attribute("data-state", "failed", timeout=20_000)
        expect(item.locator("[data-item-reason]")).to_be_visible()
        assert item.locator("[data-item-reason]").inner_text().strip()
        expect(item.get_by_role("button", name="Change tags")).to_be_visible()
        visit.check("bedside-refused")
        page.wait_for_timeout(2_500)  # longer than the first retry would wait
        assert len(sent) == 1

        # "Change tags" opens the sheet for this photo; sending again reuses its capture_id.
        item.get_by_role("button", name="Change tags").click()
        sheet = page.locator("[data-tag-sheet]")
        expect(sheet.get_by_role("heading", name="Change the tags of photo 1")).to_be_visible()
        expect(sheet.locator("[data-tag-choice]")).to_have_text("Chosen: Chest")
        pick_on_map(page, "Abdomen")
        with page.expect_response(re.compile(r".*/photos$")) as answer:
            sheet.get_by_role("button", name="Send again").click()
        assert 400 <= answer.value.status < 500
        expect(item).to_contain_text("Abdomen")
        expect(item).to_have_attribute("data-state", "failed", timeout=20_000)
        assert len(sent) == 2
        expect(
            page.get_by_role("button", name=re.compile("Tags for the next photo"))
        ).to_contain_text("Chest")

        page.once("dialog", lambda dialog: dialog.accept())
        item.get_by_role("button", name="Discard").click()
        expect(page.locator(".queue-item")).to_have_count(0)
    finally:
        page.context.close()
    assert archived(live_server, mrn) == []


# --- 3. Network failure: retried with the same capture_id, stored once ------------------------


def test_an_upload_that_fails_on_the_way_is_retried_and_stored_once(
    camera_phone: Visit, live_server: LiveServer
) -> None:
    page = camera_phone.page
    mrn = "PC100015"
    attempts: list[str] = []

    def flaky(route: Route) -> None:
        body = route.request.post_data_buffer or b""
        found = re.search(rb'name="capture_id"\r\n\r\n([0-9a-f-]+)', body)
        attempts.append(found.group(1).decode() if found else "")
        if len(attempts) == 1:
            route.abort("internetdisconnected")
        elif len(attempts) == 2:
            route.fulfill(status=503, body="Service Unavailable")
        else:
            route.continue_()

    start_session(camera_phone, mrn)
    page.route(re.compile(r".*/photos$"), flaky)
    shoot(page)
    pick_on_map(page, "Left buttock", back=True)
    page.locator("[data-tag-sheet]").get_by_role("button", name="Send photo").click()
    item = queue_item(page)
    expect(item).to_contain_text("No connection", timeout=10_000)
    expect(item.get_by_role("button", name="Send now")).to_be_visible()
    expect(page.locator("[data-queue-summary]")).to_have_text("1 not stored yet")
    expect(item).to_have_attribute("data-state", "stored", timeout=30_000)

    assert len(attempts) == 3
    assert len(set(attempts)) == 1 and attempts[0]
    stored = archived(live_server, mrn)
    assert len(stored) == 1
    assert stored[0].ImageLaterality == "L"


# --- 4. Nothing left on the device -----------------------------------------------------------


def test_after_a_session_the_device_holds_nothing(camera_phone: Visit) -> None:
    page = camera_phone.page
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    start_session(camera_phone, "PC100016")
    shoot(page)
    pick_on_map(page, "Chest")
    page.locator("[data-tag-sheet]").get_by_role("button", name="Send photo").click()
    expect(queue_item(page)).to_have_attribute("data-state", "stored", timeout=20_000)
    # No way to save the thumbnail: no link, not draggable, no context menu.
    assert page.locator(".upload-queue a").count() == 0
    expect(page.locator(".queue-item img")).to_have_attribute("draggable", "false")

    for where in ("capture", "summary"):
        if where == "summary":
            page.get_by_role("link", name="Finish").click()
            expect(page).to_have_url(re.compile(r"/summary$"))
        left = storage_left_behind(page)
        assert left["local"] == 0 and left["session"] == 0, left
        assert left["indexeddb"] == [] and left["opfs"] == [], left
        for name, paths in dict(left["caches"]).items():  # type: ignore[call-overload]
            for path in paths:
                assert path.startswith("/static/") or path in (
                    "/offline",
                    "/manifest.webmanifest",
                ), (name, path)
    assert downloads == []


# --- 5. Idle lock ----------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["pixel7", "desktop"])
def test_the_screen_locks_when_idle_and_only_the_password_unlocks_it(
    device: str,
    camera_chromium: Browser,
    playwright_session: Playwright,
    locking_server: LiveServer,
    axe: Axe,
) -> None:
    mrn = "PC100017" if device == "pixel7" else "PC100018"
    visit = _open(camera_chromium, playwright_session, locking_server, axe, device)
    page = visit.page
    allow = {"uploads": False}
    sent_while_locked: list[bool] = []

    def held(route: Route) -> None:
        if not allow["uploads"]:
            route.abort("internetdisconnected")
            return
        sent_while_locked.append(page.locator("[data-idle-lock]").is_visible())
        route.continue_()

    try:
        start_session(visit, mrn)
        page.route(re.compile(r".*/photos$"), held)
        shoot(page)
        pick_on_map(page, "Right inguinal region")
        page.locator("[data-tag-sheet]").get_by_role("button", name="Send photo").click()
        expect(queue_item(page)).to_have_attribute("data-state", "waiting")

        lock = page.get_by_role("dialog", name="Screen locked")
        expect(lock).to_be_visible(timeout=LOCK_SECONDS * 1000 + 5_000)
        banner = page.get_by_role("region", name="Patient")
        expect(banner.locator(".banner-name")).to_be_hidden()
        expect(page.locator(".queue-thumb").first).to_be_hidden()
        expect(page.locator(".queue-site").first).to_be_hidden()
        expect(page.locator("[data-camera-video]")).to_be_hidden()
        expect(page.locator("[data-shutter]")).to_be_disabled()
        expect(lock).to_contain_text("still being sent")
        visit.check("bedside-locked")

        # Uploads carry on behind the lock.
        allow["uploads"] = True
        page.locator("[data-item-retry]").first.dispatch_event("click")
        deadline = time.monotonic() + 20
        while len(archived(locking_server, mrn)) < 1 and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert len(archived(locking_server, mrn)) == 1
        assert sent_while_locked == [True]

        lock.get_by_label("Password").fill("not-the-password")
        lock.get_by_role("button", name="Unlock").click()
        expect(lock.locator("[data-idle-lock-error]")).to_contain_text("not your password")
        expect(lock).to_be_visible()
        page.keyboard.press("Escape")
        expect(lock).to_be_visible()

        lock.get_by_label("Password").fill(PASSWORDS["nurse"])
        lock.get_by_role("button", name="Unlock").click()
        expect(lock).to_be_hidden()
        expect(banner.locator(".banner-name")).to_be_visible()
        expect(queue_item(page)).to_have_attribute("data-state", "stored")
        expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
        visit.assert_no_console_errors()
    finally:
        page.context.close()


def shown_tags(page: Page) -> tuple[str, str, str]:
    """What the tag sheet shows with a new photo's preview: site, side, view."""
    sheet = page.locator("[data-tag-sheet]")
    expect(sheet.locator("[data-tag-photos] img")).to_be_visible()
    return (
        sheet.locator("[data-tag-choice]").inner_text(),
        sheet.locator("[data-tag-side]:checked").evaluate_all("s => s.map(i => i.value).join()"),
        sheet.locator("[data-tag-view]:checked").evaluate_all("v => v.map(i => i.value).join()"),
    )


def test_each_photo_is_sent_with_the_tags_shown_on_its_preview_and_none_survive_the_lock(
    camera_chromium: Browser,
    playwright_session: Playwright,
    locking_server: LiveServer,
    axe: Axe,
) -> None:
    mrn = "PC100019"
    visit = _open(camera_chromium, playwright_session, locking_server, axe, "pixel7")
    page = visit.page
    sheet = page.locator("[data-tag-sheet]")
    send = sheet.get_by_role("button", name="Send photo")
    try:
        start_session(visit, mrn)
        # 1: nothing to carry over yet; the nurse tags it.
        shoot(page)
        assert shown_tags(page) == ("None chosen yet", "", View.OVERVIEW.value)
        pick_on_map(page, "Right inguinal region")
        shown = [shown_tags(page)]
        # Next to the preview, every tag it will carry, whatever is scrolled out of view.
        summaries = [sheet.locator("[data-tag-summary]").inner_text()]
        send.click()
        expect(queue_item(page, 1)).to_have_attribute("data-state", "stored", timeout=20_000)

        # 2: the same tags are offered with the preview, never sent unseen; the view changes.
        shoot(page)
        expect(sheet).to_be_visible()
        assert shown_tags(page) == shown[0]
        expect(queue_item(page, 2)).to_have_count(0)
        sheet.locator("label[for=tag-view-close-up]").click()
        shown.append(shown_tags(page))
        summaries.append(sheet.locator("[data-tag-summary]").inner_text())
        send.click()
        expect(queue_item(page, 2)).to_have_attribute("data-state", "stored", timeout=20_000)

        # The idle lock, then the password: the next photo starts again from no tags.
        lock = page.get_by_role("dialog", name="Screen locked")
        expect(lock).to_be_visible(timeout=LOCK_SECONDS * 1000 + 5_000)
        lock.get_by_label("Password").fill(PASSWORDS["nurse"])
        lock.get_by_role("button", name="Unlock").click()
        expect(lock).to_be_hidden()
        shoot(page)
        assert shown_tags(page) == ("None chosen yet", "", View.OVERVIEW.value)
        pick_on_map(page, "Left buttock", back=True)
        shown.append(shown_tags(page))
        summaries.append(sheet.locator("[data-tag-summary]").inner_text())
        send.click()
        expect(queue_item(page, 3)).to_have_attribute("data-state", "stored", timeout=20_000)
        visit.assert_no_console_errors()
    finally:
        page.context.close()

    assert summaries == [
        "Right inguinal region · Overview",
        "Right inguinal region · Close-up",
        "Left buttock · Overview",
    ]
    # Each photo carries exactly the tags its preview showed.
    assert [choice for choice, _side, _view in shown] == [
        "Chosen: Right inguinal region",
        "Chosen: Right inguinal region",
        "Chosen: Left buttock",
    ]
    view_codes = {view.value: view.code.value for view in View}
    side_words = {"R": "Right", "L": "Left"}
    stored = [
        (
            f"Chosen: {side_words[ds.ImageLaterality]} "
            f"{ds.AnatomicRegionSequence[0].CodeMeaning.lower()}",
            ds.ImageLaterality,
            ds.ViewCodeSequence[0].CodeValue,
        )
        for ds in archived(locking_server, mrn)
    ]
    assert sorted(stored) == sorted(
        (choice, side, view_codes[view]) for choice, side, view in shown
    )


# --- 6. Leave guard ----------------------------------------------------------------------------


def test_leaving_with_an_unsent_photo_asks_first(camera_phone: Visit) -> None:
    page = camera_phone.page
    start_session(camera_phone, "PC100020")
    page.route(re.compile(r".*/photos$"), lambda route: route.abort("internetdisconnected"))
    shoot(page)
    pick_on_map(page, "Abdomen")
    page.locator("[data-tag-sheet]").get_by_role("button", name="Send photo").click()
    expect(queue_item(page)).to_have_attribute("data-state", "waiting")
    here = page.url

    page.get_by_role("link", name="Finish").click()
    expect(page.locator("[data-finish-note]")).to_contain_text("1 photo is not stored yet")
    assert page.url == here

    asked: list[Dialog] = []

    def refuse(dialog: Dialog) -> None:
        asked.append(dialog)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.get_by_role("link", name="Change patient").click()
    page.wait_for_timeout(300)
    assert [d.type for d in asked] == ["confirm"]
    assert "not been stored" in asked[0].message
    assert page.url == here

    def accept(dialog: Dialog) -> None:
        asked.append(dialog)
        dialog.accept()

    page.once("dialog", accept)
    page.reload()
    assert [d.type for d in asked] == ["confirm", "beforeunload"]
    expect(page).to_have_url(here)
    camera_phone.assert_no_console_errors()
