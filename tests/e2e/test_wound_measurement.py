"""Measuring a wound in Chromium: trace the outline on the photo with the pointer and with the
keyboard, save it to the wound, and check the area of the stored measurement report (read back
over WADO-RS by highdicom) against the scene's geometry; the finding page then shows it on the
area chart. Screens checked with axe and photographed."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import highdicom as hd
import numpy as np
import pydicom
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Playwright, expect

from tests.e2e.conftest import DESKTOP, Visit, _visit
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.wound_scenes import Camera, Scene, ellipse, render, scene_jpeg

MRN = "PC100018"
PATIENT = f"/patients/{MRN}?issuer=PCDEMO"
"""A patient no other browser test stores photos for."""
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 1, "has_touch": True}


@pytest.fixture(scope="module")
def scene() -> Scene:
    camera = Camera(2400, 1800, 1800.0, 15.0, 30.0, 8.0, 180.0, (22.0, 0.0))
    wound = ellipse(15.0, 10.0, (45.0, 3.0), 20.0, points=48)
    return render(camera, wound, np.random.default_rng(21), blur_px=0.8, noise=1.5)


@pytest.fixture(params=["desktop", "tablet"])
def clinician(
    request: pytest.FixtureRequest,
    chromium: Browser,
    playwright_session: Playwright,
    live_server: LiveServer,
    axe: Axe,
) -> Iterator[Visit]:
    options = DESKTOP if request.param == "desktop" else TABLET
    context = chromium.new_context(**options)  # type: ignore[arg-type]
    try:
        visit = _visit(context, live_server, axe, request.param)
        visit.sign_in("doctor")
        yield visit
    finally:
        context.close()


def _api(visit: Visit, method: str, path: str, **options: object) -> dict[str, object]:
    token = visit.page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = visit.page.request.fetch(
        visit.base_url + path,
        method=method,
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
        **options,  # type: ignore[arg-type]
    )
    assert answer.ok, answer.text()
    return answer.json() if answer.status != 204 else {}  # type: ignore[no-any-return]


def _photo_under_a_wound(visit: Visit, scene: Scene) -> tuple[str, str, int]:
    """A new wound, and the scene's photo filed under it as it is sent: (study UID, photo UID,
    the wound's id)."""
    visit.goto(PATIENT)
    wound = _api(
        visit,
        "POST",
        f"/api/v1/patients/{MRN}/findings?issuer=PCDEMO",
        data={"kind": "venous-ulcer", "body_site": "14975008", "laterality": "L"},
    )
    stored = _api(
        visit,
        "POST",
        "/api/v1/photos",
        multipart={
            "patient_id": MRN,
            "issuer": "PCDEMO",
            "body_site": "14975008",
            "laterality": "L",
            "finding": str(wound["id"]),
            **CLINICAL_ONLY,
            "capture_id": str(uuid.uuid4()),
            "allow_duplicate": "true",  # each test sends the scene again, for a wound of its own
            "captured_at": "2026-05-04T10:00:00+02:00",
            "file": {"name": "wound.jpg", "mimeType": "image/jpeg", "buffer": scene_jpeg(scene)},
        },
    )
    return (
        str(stored["study_instance_uid"]),
        str(stored["sop_instance_uid"]),
        int(wound["id"]),  # type: ignore[call-overload]
    )


def _stored_area(visit: Visit, study: str, report_uid: str, tracking_uid: str) -> float:
    """The area in the measurement report as the archive serves it (QIDO-RS, then WADO-RS)."""
    listed = visit.page.request.get(
        f"{visit.base_url}/dicomweb/studies/{study}/instances",
        headers={"Accept": "application/dicom+json"},
    )
    assert listed.ok, listed.text()
    [series] = [
        obj["0020000E"]["Value"][0]
        for obj in listed.json()
        if obj["00080018"]["Value"][0] == report_uid
    ]
    answer = visit.page.request.get(
        f"{visit.base_url}/dicomweb/studies/{study}/series/{series}/instances/{report_uid}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
    )
    assert answer.ok, answer.text()
    body = answer.body()
    report = pydicom.dcmread(io.BytesIO(body[body.index(b"DICM") - 128 :]))
    sr = hd.sr.Comprehensive3DSR.from_dataset(report)
    [group] = sr.content.get_planar_roi_measurement_groups(tracking_uid=tracking_uid)
    [area] = [m for m in group.get_measurements() if m.name.meaning == "Area"]
    return float(area.value)


def test_trace_save_and_see_the_trend(clinician: Visit, scene: Scene) -> None:
    study, uid, wound = _photo_under_a_wound(clinician, scene)
    clinician.goto(f"/patients/{MRN}/photos/{uid}/measure?issuer=PCDEMO")
    page = clinician.page
    image = page.locator("[data-trace-stage] img")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('[data-trace-stage] img').complete")
    clinician.check("measure-empty")
    box = image.bounding_box()
    assert box is not None
    scale = box["width"] / scene.image.shape[1]
    for x, y in scene.outline_px:  # click by click, as on a tablet
        page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
    expect(page.locator("[data-trace-count]")).to_have_text("48 points.")
    page.get_by_role("button", name="Save to Wound").click()
    area = page.locator("[data-trace-area]")
    expect(area).to_be_visible()
    expect(page.locator(".trace-saved")).to_be_visible()
    clinician.check("measure-saved")
    recorded = _api(
        clinician, "GET", f"/api/v1/patients/{MRN}/findings/{wound}/measurements?issuer=PCDEMO"
    )
    assert isinstance(recorded, list) and len(recorded) == 1
    # Clicks land on whole screen pixels: a few tenths of a photo pixel off each vertex.
    assert recorded[0]["area_cm2"] == pytest.approx(scene.area_cm2, rel=0.02)
    assert area.inner_text() == f"{recorded[0]['area_cm2']:.2f} cm²"
    findings = _api(clinician, "GET", f"/api/v1/patients/{MRN}/findings?issuer=PCDEMO")
    assert isinstance(findings, list)
    [tracking_uid] = [f["tracking_uid"] for f in findings if f["id"] == wound]
    stored_area = _stored_area(
        clinician, study, str(recorded[0]["report_sop_instance_uid"]), tracking_uid
    )
    assert stored_area == pytest.approx(scene.area_cm2, rel=0.02)
    assert stored_area == pytest.approx(recorded[0]["area_cm2"], rel=1e-3)
    clinician.goto(f"/patients/{MRN}/findings/{wound}?issuer=PCDEMO")
    expect(page.locator("svg.trend circle.trend-point")).to_have_count(1)
    clinician.check("finding")
    clinician.goto(f"/patients/{MRN}/findings?issuer=PCDEMO")
    expect(page.get_by_role("link", name="Wound 1")).to_be_visible()
    clinician.check("findings")
    clinician.goto(f"/patients/{MRN}/photos/{uid}?issuer=PCDEMO")
    expect(page.get_by_label("File this photo under")).to_have_value(str(wound))
    clinician.check("photo-with-finding")
    clinician.assert_no_console_errors()


def test_the_keyboard_alone_traces_and_measures(clinician: Visit, scene: Scene) -> None:
    _, uid, _ = _photo_under_a_wound(clinician, scene)
    clinician.goto(f"/patients/{MRN}/photos/{uid}/measure?issuer=PCDEMO")
    page = clinician.page
    page.locator("[data-trace-stage]").focus()
    # From the centre: a square of 4 steps a side (1 % of the longer side each) around it.
    for keys in (
        ["ArrowUp"] * 2 + ["ArrowLeft"] * 2,
        ["ArrowRight"] * 4,
        ["ArrowDown"] * 4,
        ["ArrowLeft"] * 4,
    ):
        for key in keys:
            page.keyboard.press(key)
        page.keyboard.press("Enter")
    expect(page.locator("[data-trace-count]")).to_have_text("4 points.")
    page.keyboard.press("Backspace")
    expect(page.locator("[data-trace-count]")).to_have_text("3 points.")
    page.get_by_role("button", name="Measure", exact=True).click()
    expect(page.locator("[data-trace-area]")).to_be_visible()
    clinician.assert_no_console_errors()
