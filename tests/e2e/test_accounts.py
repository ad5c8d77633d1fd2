"""An administrator adds a user from the home page; the user signs in with the temporary
password, is held on the change of password until they choose their own, then reaches the
home page. Every screen on the way is checked with axe."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Playwright, expect

from tests.e2e.conftest import Visit, _context, _visit
from tests.support.server import LiveServer

NEW_PASSWORD = "clean dressing every tuesday"


def test_an_added_user_chooses_a_password_at_first_sign_in(
    phone: Visit, chromium: Browser, playwright_session: Playwright, live_server: LiveServer
) -> None:
    page = phone.page
    username = f"e2e-{uuid.uuid4().hex[:8]}"
    phone.sign_in("admin")
    page.get_by_role("link", name=re.compile("^Users")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    phone.check("admin-users")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Name shown to colleagues").fill("Pat Newcomer")
    page.locator("label[for=new-role-clinician]").click()
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("User added")
    password = page.locator(".temporary-password").inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password), password
    phone.check("admin-user-added")
    page.get_by_role("link", name="Back to Pat Newcomer").click()
    expect(page.get_by_text("must choose a new password at the next sign-in")).to_be_visible()
    phone.check("admin-user")

    context = _context(chromium, playwright_session, "pixel7")
    try:
        newcomer = _visit(context, live_server, phone.axe, "pixel7")
        user = newcomer.page
        newcomer.goto("/login")
        user.get_by_label("User name").fill(username)
        user.get_by_label("Password").fill(password)
        user.get_by_role("button", name="Sign in").click()
        expect(user).to_have_url(re.compile(r"/account/password$"))
        expect(user.get_by_role("heading", level=1)).to_have_text("Choose your own password")
        newcomer.check("account-password-forced")
        newcomer.goto("/patients/PC100001?issuer=PCDEMO")  # nothing else opens
        expect(user).to_have_url(re.compile(r"/account/password$"))

        user.get_by_label("Temporary password").fill(password)
        user.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        user.get_by_label("New password again").fill(NEW_PASSWORD + " ")
        user.get_by_role("button", name="Change the password").click()
        expect(user.get_by_role("alert")).to_contain_text("The two new passwords differ")
        newcomer.check("account-password-refused")

        user.get_by_label("Temporary password").fill(password)
        user.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        user.get_by_label("New password again").fill(NEW_PASSWORD)
        user.get_by_role("button", name="Change the password").click()
        expect(user).to_have_url(re.compile(r"/$"))
        expect(user.get_by_role("heading", level=1)).to_have_text("Find patient")
        newcomer.goto("/patients/PC100001?issuer=PCDEMO")
        expect(user.locator(".patient-banner")).to_be_visible()
        newcomer.assert_no_console_errors()
    finally:
        context.close()
    phone.assert_no_console_errors()
