"""The OHIF viewer on Pointcare's own archive, in Chromium: "Open in viewer" opens the study, the
photo is drawn (its colours, not a blank canvas), a sensitive photo stays sealed inside the viewer
until the glass is broken, and nothing breaks the viewer's own security policy.

The viewer is installed by ``make viewer`` (part of ``make test``); without it these tests skip
locally and fail under CI=true.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Page, Response, expect

from pointcare.settings import Settings
from pointcare.web.viewer import installed
from tests.e2e.conftest import Visit
from tests.e2e.test_desk_review import desk
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.tools import corpus, missing
from tests.support.wound_scenes import Camera, ellipse, render, scene_jpeg
from tests.unit.dicom.test_pdf import a_pdf

__all__ = ["desk"]  # the desk tests' fixture, used here by name

MRN = "PC100013"
"""STRAUSS, Grete: no visit number, so each day of photos is a study of its own."""
PHOTO = ("photos", "gps", "DSCN0010.jpg")
CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@dataclass(frozen=True)
class Stored:
    study: str
    series: str
    sop: str


@pytest.fixture
def viewer(desk: Visit) -> Visit:
    """The desk of the desk tests, signed in as the doctor, with the viewer installed and every
    breach of a security policy recorded in the page."""
    if not installed(Settings()):
        missing("the OHIF viewer in pwa/viewer (run: make viewer)")
    desk.page.context.add_init_script(CSP_VIOLATIONS)
    return desk


def api_post(desk: Visit, path: str, multipart: dict[str, Any]) -> dict[str, Any]:
    """``multipart`` posted to the API as this signed-in page (its CSRF token); the answer."""
    desk.goto(f"/patients/{MRN}?issuer=PCDEMO")
    token = desk.page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = desk.page.request.post(
        desk.base_url + path,
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
        multipart=multipart,
    )
    assert answer.status == 201, answer.text()
    found: dict[str, Any] = answer.json()
    return found


def store(desk: Visit, day: str, *, sensitive: bool = False, at: str = "10:00:00+01:00") -> Stored:
    """A photo of the patient's forearm taken on ``day``, sent through the API as this page."""
    body = api_post(
        desk,
        "/api/v1/photos",
        {
            "patient_id": MRN,
            "issuer": "PCDEMO",
            "body_site": "14975008",
            "laterality": "R",
            "sensitive": "true" if sensitive else "false",
            "capture_id": str(uuid.uuid4()),
            "captured_at": f"{day}T{at}",
            "allow_duplicate": "true",  # the same picture on several days, on purpose
            **CLINICAL_ONLY,
            "file": {
                "name": "wound.jpg",
                "mimeType": "image/jpeg",
                "buffer": corpus(*PHOTO).read_bytes(),
            },
        },
    )
    return Stored(body["study_instance_uid"], body["series_instance_uid"], body["sop_instance_uid"])


def mean_colour(image: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(image.convert("RGB")).mean)


def drawn_image(page: Page) -> Image.Image:
    """What the viewport shows of the image: the screenshot of its canvas, cropped to where it
    is not black (the photo is fitted into the viewport with black bars)."""
    canvas = page.locator("canvas.cornerstone-canvas").first
    shot = Image.open(BytesIO(canvas.screenshot())).convert("RGB")
    box = shot.convert("L").point(lambda value: 255 if value > 12 else 0).getbbox()
    assert box is not None, "the viewport is black"
    return shot.crop(box)


def open_in_viewer(desk: Visit, link: str) -> Response:
    """Open the viewer at ``link``; the answer to its first frame request, once the frame is
    drawn (or refused)."""
    with desk.page.expect_response(lambda r: "/frames/" in r.url, timeout=60_000) as frame:
        desk.goto(link)
    expect(desk.page.locator("canvas.cornerstone-canvas").first).to_be_visible(timeout=30_000)
    for name in ("Confirm and hide", "Skip all"):  # OHIF's notice and its tour
        button = desk.page.get_by_role("button", name=name)
        if button.count():
            # Dispatched to the button itself: an error notice of the viewer's (a refused
            # frame of a sealed photo) may lie over it.
            button.first.dispatch_event("click")
    desk.page.wait_for_timeout(1_500)  # the frame decoded and drawn
    return frame.value


def test_a_study_opens_in_the_viewer_with_the_photo_drawn(viewer: Visit) -> None:
    stored = store(viewer, "2023-03-14")
    viewer.goto(f"/patients/{MRN}?issuer=PCDEMO")
    link = viewer.page.get_by_role("link", name="Open in viewer")
    expect(link).to_have_attribute(
        "href", re.compile(rf"^/viewer/viewer\?StudyInstanceUIDs=.*{stored.study}")
    )
    viewer.goto(f"/patients/{MRN}/photos/{stored.sop}?issuer=PCDEMO")
    photo_link = viewer.page.get_by_role("link", name="Open in viewer").get_attribute("href") or ""
    assert f"StudyInstanceUIDs={stored.study}" in photo_link
    assert f"initialSopInstanceUID={stored.sop}" in photo_link

    assert open_in_viewer(viewer, photo_link).status == 200
    drawn = drawn_image(viewer.page)
    with Image.open(corpus(*PHOTO)) as original:
        expected = mean_colour(original)
    seen = mean_colour(drawn)
    assert all(abs(a - b) < 12 for a, b in zip(seen, expected, strict=True)), (seen, expected)
    assert ImageStat.Stat(drawn.convert("L")).stddev[0] > 20, "a photo, not a flat fill"
    assert drawn.width > 600, "drawn at the viewport's size"
    viewer.shoot("viewer")
    assert viewer.page.evaluate("window.__cspViolations") == []


def test_a_sensitive_photo_stays_sealed_in_the_viewer_until_the_glass_is_broken(
    viewer: Visit,
) -> None:
    stored = store(viewer, "2023-03-15", sensitive=True)
    link = f"/viewer/viewer?StudyInstanceUIDs={stored.study}"
    assert open_in_viewer(viewer, link).status == 403
    notice = viewer.page.locator(".pointcare-sealed")
    expect(notice).to_contain_text("A sensitive photo in this study is not shown")
    viewer.shoot("viewer-sealed")
    canvas = viewer.page.locator("canvas.cornerstone-canvas").first
    # What lies over the canvas (our notice, the viewer's own error notice) is painted black.
    over = [notice, viewer.page.locator("section[aria-label^='Notifications']")]
    shown = Image.open(BytesIO(canvas.screenshot(mask=over, mask_color="#000000"))).convert("L")
    black = shown.point(lambda value: 255 if value < 12 else 0)
    assert ImageStat.Stat(black).mean[0] / 255 > 0.9, "nothing of the photo is drawn"

    # The notice leads to the patient's break-the-glass page, which comes back to the viewer.
    notice.get_by_role("link", name="Give a reason to see it").click()
    expect(viewer.page.get_by_role("heading", level=1)).to_contain_text("Sensitive photos")
    viewer.page.get_by_label("Reason").fill("Wound review before the dressing change")
    with viewer.page.expect_response(lambda r: "/frames/" in r.url, timeout=60_000) as frame:
        viewer.page.get_by_role("button", name="Open sensitive photos").click()
    assert frame.value.status == 200
    assert viewer.page.url.endswith(link)
    viewer.page.wait_for_timeout(1_500)
    with Image.open(corpus(*PHOTO)) as original:
        expected = mean_colour(original)
    seen = mean_colour(drawn_image(viewer.page))
    assert all(abs(a - b) < 12 for a, b in zip(seen, expected, strict=True)), (seen, expected)
    assert viewer.page.evaluate("window.__cspViolations") == []


def test_the_viewer_has_its_own_policy_and_nothing_of_it_is_public(
    viewer: Visit, live_server: LiveServer
) -> None:
    answer = viewer.page.request.get(viewer.base_url + "/viewer/viewer")
    assert answer.status == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in policy
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert answer.headers["cache-control"] == "no-store"
    page = answer.text()
    assert "<script>" not in page, "no inline script"
    assert "init-service-worker" not in page, "Pointcare's own service worker stays registered"
    config = viewer.page.request.get(viewer.base_url + "/viewer/app-config.js").text()
    assert '"qidoRoot": "/dicomweb"' in config
    assert "Authorization" not in config and "token" not in config.lower()
    home = viewer.page.request.get(viewer.base_url + "/")
    assert "wasm-unsafe-eval" not in home.headers["content-security-policy"], "viewer only"
    anonymous = viewer.page.context.browser
    assert anonymous is not None
    stranger = anonymous.new_context()
    try:
        for path in ("/viewer/viewer", "/viewer/app-config.js"):
            refused = stranger.request.get(live_server.url + path, max_redirects=0)
            assert refused.status in {302, 303, 401}, path
    finally:
        stranger.close()


def test_a_pdf_of_the_study_opens_in_the_viewer(viewer: Visit) -> None:
    pdf = a_pdf("Referral letter")
    document = api_post(
        viewer,
        "/api/v1/documents",
        {
            "patient_id": MRN,
            "issuer": "PCDEMO",
            "title": "Referral letter",
            "capture_id": str(uuid.uuid4()),
            "file": {"name": "referral.pdf", "mimeType": "application/pdf", "buffer": pdf},
        },
    )
    today = datetime.now().astimezone()
    stored = store(viewer, today.date().isoformat(), at=today.strftime("%H:%M:%S%z"))
    assert document["study_instance_uid"] == stored.study, "the day's study holds both"
    sop = document["sop_instance_uid"]
    with viewer.page.expect_response(
        lambda r: r.url.endswith(f"/instances/{sop}/rendered"), timeout=60_000
    ) as fetched:
        viewer.goto(f"/viewer/viewer?StudyInstanceUIDs={stored.study}")
    assert fetched.value.status == 200
    assert fetched.value.headers["content-type"] == "application/pdf"
    again = viewer.page.request.get(fetched.value.url, headers={"Accept": "application/pdf"})
    assert again.body() == pdf, "the document byte for byte"
    # OHIF shows the study's document in its viewport, in an <object> of the PDF (headless
    # Chromium has no PDF plugin to draw it; a desktop browser does).
    shown = viewer.page.locator('object[type="application/pdf"]')
    expect(shown).to_have_count(1, timeout=30_000)
    assert (shown.get_attribute("data") or "").endswith(f"/instances/{sop}/rendered")
    expect(viewer.page.get_by_text("Documents").first).to_be_visible()
    viewer.shoot("viewer-pdf")
    assert viewer.page.evaluate("window.__cspViolations") == []


def test_a_measured_wound_opens_in_the_viewer_with_its_measurement_report(viewer: Visit) -> None:
    """The report is in the photo's study: the viewer lists it beside the photo, as an SR series
    of its own, and opening it shows the photo it measures. (This viewer draws back only the
    outlines it wrote itself: docs/conformance.md.)"""
    camera = Camera(1600, 1200, 1200.0, 10.0, 20.0, 0.0, 150.0, (20.0, 0.0))
    scene = render(camera, ellipse(12.0, 8.0, (40.0, 0.0)), np.random.default_rng(5), blur_px=0.6)
    viewer.goto(f"/patients/{MRN}?issuer=PCDEMO")
    token = viewer.page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    wound = viewer.page.request.post(
        f"{viewer.base_url}/api/v1/patients/{MRN}/findings?issuer=PCDEMO",
        headers=headers,
        data={"kind": "venous-ulcer", "body_site": "14975008", "laterality": "L"},
    )
    assert wound.ok, wound.text()
    photo = api_post(
        viewer,
        "/api/v1/photos",
        {
            "patient_id": MRN,
            "issuer": "PCDEMO",
            "body_site": "14975008",
            "laterality": "L",
            "finding": str(wound.json()["id"]),
            "capture_id": str(uuid.uuid4()),
            "captured_at": "2023-03-16T10:00:00+01:00",
            **CLINICAL_ONLY,
            "file": {"name": "wound.jpg", "mimeType": "image/jpeg", "buffer": scene_jpeg(scene)},
        },
    )
    measured = viewer.page.request.post(
        f"{viewer.base_url}/api/v1/patients/{MRN}/measurements?issuer=PCDEMO",
        headers=headers,
        data={
            "sop_instance_uid": photo["sop_instance_uid"],
            "outline": scene.outline_px.round(2).tolist(),
            "record": True,
        },
    )
    assert measured.ok, measured.text()
    link = f"/viewer/viewer?StudyInstanceUIDs={photo['study_instance_uid']}"
    assert open_in_viewer(viewer, link).status == 200
    report = viewer.page.get_by_text("Wound measurements", exact=True)
    expect(report).to_be_visible()
    expect(viewer.page.get_by_text("SR", exact=True).first).to_be_visible()
    report.dblclick()
    expect(viewer.page.locator("canvas.cornerstone-canvas").first).to_be_visible()
    viewer.page.wait_for_timeout(1_500)
    drawn = drawn_image(viewer.page)
    assert ImageStat.Stat(drawn.convert("L")).stddev[0] > 10, "the measured photo, drawn"
    viewer.shoot("viewer-measured")
    assert viewer.page.evaluate("window.__cspViolations") == []
