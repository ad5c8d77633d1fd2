"""Video clips and dermoscopy in a real Chromium. At the bedside: record from the (fake) camera
with the running time against the limit, stop at the limit, play it back, keep it, tag it, send
it; the archive then holds a Video Photographic object for the patient, and the page holds
nothing. Without an in-page camera the phone's camera app takes the clip through a file input.
At the desk: a phone's clip and a dermatoscope's image added together, then the clip played on
its page (the browser asking for byte ranges) and both shown on the review page.

The server here has a three-second limit, so that recording up to the limit takes three seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Playwright, expect

from pointcare.dicom.dermoscopy import DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
from pointcare.dicom.video import VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
from tests.e2e.conftest import answer_consent, demo_server
from tests.e2e.test_bedside_capture import (
    _open,
    archived,
    pick_on_map,
    queue_item,
    start_session,
    storage_left_behind,
)
from tests.support import clips as made
from tests.support.clips import TRACES, ClipFactory
from tests.support.server import LiveServer
from tests.support.tools import corpus

LIMIT_SECONDS = 3


@pytest.fixture(scope="module")
def clip_server() -> Iterator[LiveServer]:
    """A server of its own, whose clips may last three seconds."""
    with demo_server(POINTCARE_VIDEO_MAX_SECONDS=str(LIMIT_SECONDS)) as server:
        yield server


def tag_and_send(page: Page, site: str) -> None:
    sheet = page.locator("[data-tag-sheet]")
    expect(sheet.get_by_role("heading", name="Check the tags of this clip")).to_be_visible()
    pick_on_map(page, site)
    sheet.get_by_role("button", name="Send clip").click()
    expect(sheet).to_be_hidden()


def nothing_kept(page: Page) -> bool:
    """No storage of the page holds anything but the app shell (as for photos)."""
    left = storage_left_behind(page)
    kept = [path for paths in dict(left["caches"]).values() for path in paths]  # type: ignore[call-overload]
    shell = all(
        p.startswith("/static/") or p in ("/offline", "/manifest.webmanifest") for p in kept
    )
    return shell and (left["local"], left["session"], left["indexeddb"], left["opfs"]) == (
        0,
        0,
        [],
        [],
    )


def stored_clips(server: LiveServer, mrn: str) -> list[tuple[str, int]]:
    return [
        (dataset.SOPClassUID, int(dataset.NumberOfFrames))
        for dataset in archived(server, mrn)
        if dataset.SOPClassUID == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
    ]


@pytest.mark.parametrize("device", ["pixel7", "ipad", "desktop"])
def test_a_clip_recorded_at_the_bedside_is_stored_for_the_patient(
    device: str,
    camera_chromium: Browser,
    playwright_session: Playwright,
    clip_server: LiveServer,
    axe: Axe,
) -> None:
    mrn = {"pixel7": "PC100014", "ipad": "PC100015", "desktop": "PC100016"}[device]
    visit = _open(camera_chromium, playwright_session, clip_server, axe, device)
    page = visit.page
    try:
        start_session(visit, mrn)
        record = page.get_by_role("button", name="Record clip")
        expect(record).to_be_visible()
        expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
        record.click()

        # Recording: the running time against the limit, the shutter out of use, Stop offered.
        timer = page.locator("[data-recording]")
        expect(timer).to_be_visible()
        expect(timer).to_contain_text("of 0:03")
        expect(page.get_by_role("button", name="Stop")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("[data-shutter]")).to_be_disabled()
        expect(page.locator("[data-recording-time]")).to_have_text("0:01", timeout=5_000)
        visit.check("bedside-recording")

        # It stops by itself at the limit, and plays back before it is kept.
        preview = page.locator("[data-clip-preview]")
        expect(preview).to_be_visible(timeout=10_000)
        expect(timer).to_be_hidden()
        expect(preview.locator(".tag-sheet-patient")).to_contain_text(mrn)
        expect(preview.locator("[data-clip-facts]")).to_contain_text("long")
        duration = preview.locator("video").evaluate(
            """video => new Promise((resolve) => {
                 if (video.readyState >= 1) resolve(video.duration);
                 video.addEventListener("loadedmetadata", () => resolve(video.duration));
               })"""
        )
        assert duration is None or duration == float("inf") or 0 < duration <= LIMIT_SECONDS + 1
        visit.check("bedside-clip-preview")
        preview.get_by_role("button", name="Use this clip").click()
        expect(preview).to_be_hidden()

        tag_and_send(page, "Right forearm, front")
        item = queue_item(page)
        expect(item.locator("[data-item-kind]")).to_have_text("Clip")
        expect(item).to_have_attribute("data-state", "stored", timeout=90_000)
        expect(item).to_contain_text("Right forearm")
        expect(page.get_by_role("button", name="Take photo")).to_be_enabled()
        visit.check("bedside-clip-stored")
        assert nothing_kept(page)
        page.get_by_role("link", name="Finish").click()
        expect(page).to_have_url(re.compile(r"/summary$"))
        expect(page.locator("main")).to_contain_text("1 video clip stored")
        expect(page.locator("main")).to_contain_text("Right forearm")
        visit.assert_no_console_errors()
    finally:
        page.context.close()

    stored = stored_clips(clip_server, mrn)
    assert len(stored) == 1
    assert stored[0][1] > 0


def test_a_clip_can_be_discarded_before_it_is_sent(
    camera_chromium: Browser, playwright_session: Playwright, clip_server: LiveServer, axe: Axe
) -> None:
    mrn = "PC100017"
    visit = _open(camera_chromium, playwright_session, clip_server, axe, "pixel7")
    page = visit.page
    sent: list[str] = []
    page.on(
        "request", lambda request: sent.append(request.url) if "/clips" in request.url else None
    )
    try:
        start_session(visit, mrn)
        page.get_by_role("button", name="Record clip").click()
        expect(page.locator("[data-recording-time]")).to_have_text("0:01", timeout=5_000)
        page.get_by_role("button", name="Stop").click()
        preview = page.locator("[data-clip-preview]")
        expect(preview).to_be_visible(timeout=10_000)
        # Escape does not drop it silently: one of the two buttons must be chosen.
        page.keyboard.press("Escape")
        expect(preview).to_be_visible()
        preview.get_by_role("button", name="Discard").click()
        expect(preview).to_be_hidden()
        expect(page.locator("[data-queue-announcer]")).to_have_text("Clip discarded.")
        expect(page.locator(".queue-item")).to_have_count(0)
        visit.assert_no_console_errors()
    finally:
        page.context.close()
    assert sent == []
    assert archived(clip_server, mrn) == []


def test_without_a_camera_the_phone_s_camera_app_records_the_clip(
    denying_chromium: Browser,
    playwright_session: Playwright,
    clip_server: LiveServer,
    axe: Axe,
    clips: ClipFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    mrn = "PC100018"
    clip = tmp_path_factory.mktemp("upload") / "VID_20260504_101500.mp4"
    clip.write_bytes(clips.make(made.PHONE_MOV))
    visit = _open(denying_chromium, playwright_session, clip_server, axe, "pixel7")
    page = visit.page
    try:
        start_session(visit, mrn)
        expect(page.locator("[data-camera-fallback]")).to_contain_text("permission was refused")
        expect(page.get_by_role("button", name="Record clip")).to_be_hidden()
        files = page.get_by_label(re.compile("Video clips"))
        expect(files).to_have_attribute("capture", "environment")
        expect(files).to_have_attribute("accept", "video/*")
        visit.check("bedside-clip-fallback")
        files.set_input_files(str(clip))
        preview = page.locator("[data-clip-preview]")
        expect(preview).to_be_visible()
        preview.get_by_role("button", name="Use this clip").click()
        tag_and_send(page, "Left forearm, front")
        expect(queue_item(page)).to_have_attribute("data-state", "stored", timeout=90_000)
        visit.assert_no_console_errors()
    finally:
        page.context.close()
    stored = archived(clip_server, mrn)
    assert [dataset.SOPClassUID for dataset in stored] == [VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE]
    assert stored[0].ImageLaterality == "L"
    for path in (clip_server.data_dir / "archive" / "objects").rglob("*.dcm"):
        raw = path.read_bytes()
        if mrn.encode() in raw:
            assert [trace for trace in TRACES if trace in raw] == []


def test_a_clip_and_a_dermatoscope_image_from_the_desk_show_and_play(
    chromium: Browser,
    playwright_session: Playwright,
    clip_server: LiveServer,
    axe: Axe,
    clips: ClipFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    patient = "/patients/PC100019?issuer=PCDEMO"
    folder = tmp_path_factory.mktemp("desk")
    clip = folder / "IMG_4021.MOV"
    clip.write_bytes(clips.make(made.HEVC_HDR_MOV))  # an iPhone's: HEVC, HDR, portrait
    desk = _open(chromium, playwright_session, clip_server, axe, "desktop")
    page = desk.page
    try:
        desk.sign_in("doctor")
        desk.goto(patient.replace("?", "/upload?"))
        expect(page.get_by_text("video clips up to 0:03")).to_be_visible()
        page.get_by_label("Body site", exact=True).select_option("14975008")
        page.get_by_label("Left", exact=True).check()
        page.locator("label[for=desk-view-dermoscopic]").click()
        page.locator("#desk-files").set_input_files(
            [str(clip), str(corpus("photos", "gps", "DSCN0010.jpg"))]
        )
        expect(page.locator(".desk-row").first).to_contain_text("(video clip)")
        expect(page.locator(".desk-row").first.locator("[data-date-field]")).to_contain_text(
            "The clip's own date is used if it has one"
        )
        answer_consent(page, prefix="desk-")
        page.get_by_role("button", name="Send all").click()
        rows = page.locator(".desk-row")
        for number in range(2):
            expect(rows.nth(number)).to_have_attribute("data-state", "stored", timeout=120_000)
        desk.assert_no_console_errors()
    finally:
        page.context.close()
    kinds = {(ds.Modality, ds.SOPClassUID) for ds in archived(clip_server, "PC100019")}
    assert kinds == {
        ("DMS", DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE),
        ("XC", VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE),
    }
    [video] = [ds for ds in archived(clip_server, "PC100019") if ds.Modality == "XC"]
    assert video.ContentDate == "20240102"  # the day the iPhone recorded it, not the file's

    for device in ("pixel7", "ipad", "desktop"):
        visit = _open(chromium, playwright_session, clip_server, axe, device)
        page = visit.page
        try:
            visit.sign_in("doctor")
            visit.goto(patient)
            card = page.locator(".photo-card", has=page.locator(".clip-label"))
            expect(card).to_have_count(1)
            visit.check("review-with-clip")
            card.locator(".photo-link").click()
            video = page.locator("video.photo-clip")
            expect(video).to_be_visible()
            size = video.evaluate(
                """video => new Promise((resolve) => {
                     const done = () =>
                       resolve([video.duration, video.videoWidth, video.videoHeight]);
                     if (video.readyState >= 1) done();
                     else video.addEventListener("loadedmetadata", done);
                   })"""
            )
            assert 0 < size[0] <= 3.5 and size[1] < size[2], size  # played, upright: portrait
            visit.check("clip-page")
            visit.assert_no_console_errors()
        finally:
            page.context.close()
