"""Sensitive photos behind "break the glass", and the account page, in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Visit, answer_consent
from tests.e2e.test_capture_and_review import photo_path

GLASS_PATIENT = {"pixel7": "PC100003", "desktop": "PC100005"}
"""A patient per screen: the admin breaks the glass once for each."""


def test_a_sensitive_photo_opens_only_with_a_reason(screen: Visit) -> None:
    if screen.device not in GLASS_PATIENT:
        pytest.skip("one light and one dark screen are enough here")
    page = screen.page
    mrn = GLASS_PATIENT[screen.device]
    screen.sign_in("admin")
    screen.goto(f"/patients/{mrn}/capture?issuer=PCDEMO")
    answer_consent(page)
    page.locator("#file").set_input_files(photo_path())
    page.get_by_label("Body site").select_option("38864007")  # perineum: always sensitive
    page.locator("label", has_text="Close-up").click()
    page.get_by_role("button", name="Send photo").click()
    expect(page.locator(".outcome-stored")).to_contain_text("Perineum")

    page.get_by_role("link", name="Review all photos").click()
    page.locator(".photo-card a").first.click()
    cover = page.locator(".sensitive-cover")
    expect(cover).to_contain_text("give a reason")
    image = page.locator(".photo-figure img")
    expect(image).to_have_attribute("src", re.compile(r"/thumbnail$"))
    screen.check("photo-sealed")

    cover.get_by_role("link", name="Give a reason to see it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sensitive photos")
    screen.check("break-glass")
    page.get_by_label("Reason").fill("look")
    page.evaluate("document.querySelector('form.card').noValidate = true")
    page.get_by_role("button", name="Open sensitive photos").click()
    expect(page.locator(".field-error")).to_contain_text("at least 10 characters")
    screen.check("break-glass-error")

    page.get_by_label("Reason").fill("Wound review before the dressing change")
    page.evaluate("document.querySelector('form.card').noValidate = true")
    page.get_by_role("button", name="Open sensitive photos").click()
    expect(image).to_have_attribute("src", re.compile(r"/rendered(\?viewport=\d+,\d+)?$"))
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 320
    expect(page.locator(".sensitive-cover")).to_have_count(0)
    screen.check("photo-unsealed")
    screen.assert_no_console_errors()


def test_the_account_page_signs_out_everywhere(phone: Visit) -> None:
    page = phone.page
    phone.sign_in("doctor")
    page.get_by_role("link", name=re.compile("Doctor")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    phone.check("account")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    phone.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
