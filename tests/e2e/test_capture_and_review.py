"""The first bedside flow and the first review, in a real Chromium, on a phone and a desktop."""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import Visit, answer_consent
from tests.support.tools import corpus

REVIEW_PATIENT = {"pixel7": "PC100009", "desktop": "PC100014", "pixel7-dark": "PC100019"}
"""A patient per screen, so that each review starts with exactly the photos it stored."""


def photo_path() -> str:
    """A phone photo as a new file each time: the same picture sent twice is "already stored",
    and the tests of several devices share one server."""
    data = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    comment = f"shot {uuid.uuid4()}".encode()
    marker = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    path = Path(tempfile.mkdtemp(prefix="pointcare-e2e-")) / "IMG_0001.jpg"
    path.write_bytes(data[:2] + marker + data[2:])
    return str(path)


def choose_photo_and_tags(visit: Visit, *, site: str = "14975008", side: str = "Left") -> None:
    page = visit.page
    if not page.locator("input[name=consent_clinical]:checked").count():
        answer_consent(page)
    page.locator("#file").set_input_files(photo_path())
    page.get_by_label("Body site").select_option(site)
    page.locator("label", has_text=re.compile(rf"^{side}$")).click()
    page.locator("label", has_text="Close-up").click()


def test_a_nurse_finds_the_patient_and_stores_a_photo(screen: Visit) -> None:
    page = screen.page
    screen.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    screen.check("login")

    screen.sign_in("nurse")
    expect(page.get_by_role("heading", name="Find patient")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Photographer")
    screen.check("home")

    page.get_by_label("MRN").fill("PC100001")
    page.get_by_role("button", name="Find by MRN").click()
    results = page.locator("#results")
    expect(results).to_contain_text("1 patient found")
    expect(results).to_contain_text("ÖBERG")
    expect(page.get_by_role("link", name=re.compile("Review photos"))).to_have_count(0)
    screen.check("home-results")

    page.get_by_role("link", name=re.compile("Take photos")).click()
    banner = page.get_by_role("region", name="Patient")
    expect(banner).to_contain_text("ÖBERG, Åsa")
    expect(banner).to_contain_text("PC100001")
    screen.check("capture")

    choose_photo_and_tags(screen)
    expect(page.locator("[data-photo-preview]")).to_be_visible()
    captured_at = page.locator("input[name=captured_at]").input_value()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", captured_at)
    first_id = page.locator("input[name=capture_id]").input_value()
    page.get_by_role("button", name="Send photo").click()

    outcome = page.locator(".outcome-stored")
    expect(outcome).to_contain_text("Stored for ÖBERG, Åsa — Left forearm")
    expect(outcome).to_be_focused()
    # Scrolled into view below the sticky patient banner, not under it.
    shown, covered = outcome.bounding_box(), banner.bounding_box()
    assert shown is not None and covered is not None
    assert covered["y"] + covered["height"] <= shown["y"] + 0.5 < page.viewport_size["height"]
    # A fresh form: new capture_id, no photo; tags carry over and consent folds to one line.
    assert page.locator("input[name=capture_id]").input_value() != first_id
    assert page.locator("#file").evaluate("input => input.files.length") == 0
    expect(page.get_by_label("Body site")).to_have_value("14975008")
    expect(page.locator("#laterality-L")).to_be_checked()
    expect(page.locator(".consent-box")).not_to_have_attribute("open", "")
    expect(page.locator(".consent-box summary")).to_contain_text("Clinical record · Verbal")
    screen.check("capture-stored")
    screen.assert_no_console_errors()


def photo_count(screen: Visit, mrn: str) -> int:
    """The patient's photos, as the review page's heading counts them."""
    screen.goto(f"/patients/{mrn}?issuer=PCDEMO")
    heading = screen.page.get_by_role("heading", level=1).inner_text()
    found = re.search(r"Photos \((\d+)\)", heading)
    return int(found.group(1)) if found else 0


def newest_day(screen: Visit) -> tuple[str | None, int]:
    """The review page's newest day (its anchor) and how many photos it holds."""
    day = screen.page.locator(".day").first
    if not day.count():
        return None, 0
    return day.get_attribute("id"), day.locator(".photo-card").count()


def test_a_doctor_reviews_the_photos(screen: Visit) -> None:
    page = screen.page
    mrn = REVIEW_PATIENT[screen.device]
    screen.sign_in("doctor")
    before = photo_count(screen, mrn)
    day_before, on_that_day = newest_day(screen)
    screen.goto(f"/patients/{mrn}/capture?issuer=PCDEMO")
    choose_photo_and_tags(screen)
    page.get_by_role("button", name="Send photo").click()
    expect(page.locator(".outcome-stored")).to_contain_text("Left forearm")
    page.locator("#file").set_input_files(photo_path())
    page.get_by_label("Body site").select_option("38864007")  # perineum: intimate, unpaired
    expect(page.locator("#laterality-U")).to_be_checked()
    expect(page.get_by_role("switch", name="Sensitive image")).to_be_checked()
    page.get_by_role("button", name="Send photo").click()
    expect(page.locator(".outcome-stored")).to_contain_text("— Perineum")

    page.get_by_role("link", name="Review all photos").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Photos ({before + 2})")
    # Today's photos: other tests store photos (dated by their EXIF) and clips of this patient
    # too; those of today were counted before.
    today = page.locator(".day").first
    already = on_that_day if today.get_attribute("id") == day_before else 0
    thumbnails = today.locator(".photo-card img")
    expect(thumbnails).to_have_count(already + 2)
    for index in range(already, already + 2):
        thumbnail = thumbnails.nth(index)
        thumbnail.scroll_into_view_if_needed()
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("img => img.naturalWidth") > 0, "thumbnail did not load"
    expect(today.locator(".photo-card.is-sensitive")).to_contain_text("Sensitive")
    expect(today.locator(".photo-card").last).to_contain_text("No publication")
    page.evaluate("window.scrollTo(0, 0)")
    screen.check("review")

    today.get_by_role("link", name="Left forearm").click()
    image = page.locator(".photo-figure img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 320
    expect(page.locator(".photo-record")).to_contain_text("Dr Dan Doctor")
    expect(page.locator(".photo-record")).to_contain_text("At capture: verbal")
    screen.check("photo")

    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("heading", name="Perineum")).to_be_visible()
    expect(page.locator(".photo-figure")).to_have_class(re.compile("is-sensitive"))
    screen.check("photo-sensitive")
    screen.assert_no_console_errors()


def test_a_refused_send_keeps_the_photo_and_a_fix_stores_it(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("nurse")
    phone.goto("/patients/PC100003/capture?issuer=PCDEMO")
    # Best interests covers the clinical record only: the server refuses teaching with it.
    answer_consent(page, teaching="yes")
    page.locator("label[for=consent_method-best_interests]").click()
    choose_photo_and_tags(phone, side="Right")
    page.get_by_role("button", name="Send photo").click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The photo was not stored")
    expect(summary).to_be_focused()
    expect(page.locator("#consent_teaching-error")).to_be_visible()
    assert page.locator("#file").evaluate("input => input.files.length") == 1
    phone.check("capture-refused")

    page.locator("label[for=consent_teaching-no]").click()
    page.get_by_role("button", name="Send photo").click()
    expect(page.locator(".outcome-stored")).to_contain_text("O'BRIEN, Seán — Right forearm")


def test_declining_clinical_consent_says_nothing_can_be_stored(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("nurse")
    phone.goto("/patients/PC100001/capture?issuer=PCDEMO")
    warning = page.locator(".consent-blocked")
    expect(warning).to_be_hidden()

    page.locator("label[for=consent_clinical-no]").click()

    expect(warning).to_be_visible()
    expect(warning).to_contain_text("no photo can be stored")


def test_a_photographer_is_told_review_is_for_clinicians(phone: Visit) -> None:
    phone.sign_in("nurse")
    phone.goto("/patients/PC100001?issuer=PCDEMO")

    expect(phone.page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(phone.page.locator("main")).to_contain_text("Reviewing photos is for clinicians")
    phone.check("forbidden")


def test_no_consent_question_starts_answered_and_a_heic_is_previewed(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("nurse")
    phone.goto("/patients/PC100002/capture?issuer=PCDEMO")
    expect(page.locator("input[name^=consent][type=radio]:checked")).to_have_count(0)
    expect(page.locator(".consent-box summary")).to_contain_text("Not asked yet")
    # Chromium cannot draw HEIC: the preview comes from the server, never a broken image.
    page.locator("#file").set_input_files(str(corpus("photos", "heic", "iphone_13_pro_max.heic")))
    preview = page.locator("[data-photo-preview]")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^data:image/jpeg;base64,"))
    assert preview.evaluate("img => img.naturalWidth") > 0
    phone.check("capture-heic-preview")
    phone.goto("/bedside/confirm?mrn=PC100002&issuer=PCDEMO")
    page.get_by_role("button", name="This is the patient").click()
    page.wait_for_url(re.compile(r"/consent$"))
    expect(page.locator("input[name^=consent][type=radio]:checked")).to_have_count(0)
