"""Every page of Pointcare, and how a user reaches it: one list for the browser tests that
measure each page (tap targets, sideways scrolling) and for ``make screenshots``.

A stop names the route it shows (``route``, as the app declares it), the demo user who opens
it and how (``go``). ``tests/e2e/test_every_page.py`` checks that the stops cover every page
route of the app, so a new page cannot be left out. The pages are reached as a user does,
by clicking from the demo's photo histories (``pointcare.demo.histories``), so no UID is
written here; the bedside pages open a bedside session of their own through its screens.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from pointcare.cli import DEMO_USERS

SESSION_URL = re.compile(r"/bedside/sessions/[0-9a-f-]+$")
HISTORY = "/patients/PC100022?issuer=PCDEMO"
"""The leg ulcer followed front and back: photos, a document, compare."""
SENSITIVE = "/patients/PC100023?issuer=PCDEMO"
"""The burn patient, with a sensitive photo."""
BEDSIDE_PATIENT = "PC100002"
NOT_PAGES = {
    "/patients/{mrn:str}/documents/{sop:str}",  # the PDF itself
    "/patients/{mrn:str}/pacs-studies",  # a fragment of the review page
    "/patients/{mrn:str}/pacs-studies/{study:str}/thumbnail",
    "/manifest.webmanifest",
    "/sw.js",
    "/capture",  # a redirect to a patient's capture page
}
"""GET routes that answer something other than a page (or only redirect to one)."""


def _touch(width: int, height: int, scale: int) -> dict[str, Any]:
    viewport = {"width": width, "height": height}
    return {
        "viewport": viewport,
        "device_scale_factor": scale,
        "is_mobile": True,
        "has_touch": True,
    }


DEVICES: dict[str, dict[str, Any]] = {
    "narrow-phone": _touch(360, 780, 3),
    "phone": _touch(390, 844, 2),
    "tablet": _touch(820, 1180, 2),
    "desktop": {"viewport": {"width": 1440, "height": 900}, "device_scale_factor": 1},
}
"""Browser context options: the narrowest phone we support, a common phone, a tablet held
upright and a desktop."""


@dataclass(frozen=True, slots=True)
class Stop:
    name: str
    """The screenshot's name."""
    route: str
    """The route it shows, as the app declares it (``tests/e2e/test_every_page.py``)."""
    user: str
    """The demo user who opens it; empty: signed out."""
    go: Callable[[Page, str], object]
    """Opens the page, given the server's base URL."""


def _to(path: str) -> Callable[[Page, str], object]:
    return lambda page, base: page.goto(base + path)


def _photo(page: Page, base: str) -> None:
    page.goto(base + HISTORY)
    page.locator(".photo-card .photo-link").first.click()
    page.wait_for_url(re.compile(r"/photos/"))


def _from_photo(link: str) -> Callable[[Page, str], object]:
    def go(page: Page, base: str) -> None:
        _photo(page, base)
        page.get_by_role("link", name=link).click()
        page.wait_for_load_state()

    return go


def _finding(page: Page, base: str) -> None:
    """A wound followed from today (each walk opens one more), shown on its own page."""
    page.goto(base + HISTORY.replace("?", "/findings?"))
    page.get_by_label("Body site", exact=True).select_option("14975008")
    page.get_by_label("Left", exact=True).check()
    page.get_by_role("button", name="Follow this finding").click()
    page.wait_for_url(re.compile(r"/findings/\d+"))


def _break_glass(page: Page, base: str) -> None:
    page.goto(base + SENSITIVE)
    page.locator(".photo-card.is-sensitive .photo-link").first.click()
    page.get_by_role("link", name="Give a reason to see it").click()
    page.wait_for_url(re.compile(r"/break-glass"))


def _admin(link: str) -> Callable[[Page, str], object]:
    def go(page: Page, base: str) -> None:
        page.goto(base + "/")
        page.get_by_role("link", name=re.compile(link)).click()
        page.wait_for_load_state()

    return go


def _account_of(name: str) -> Callable[[Page, str], object]:
    def go(page: Page, base: str) -> None:
        _admin("^Users")(page, base)
        page.get_by_role("link", name=re.compile(name)).click()
        page.wait_for_url(re.compile(r"/admin/users/\d+$"))

    return go


def _user_added(page: Page, base: str) -> None:
    """A user added (a new one at each walk): the temporary password, shown once."""
    _admin("^Users")(page, base)
    page.get_by_label("User name").fill(f"tour-{uuid.uuid4().hex[:8]}")
    page.get_by_label("Name shown to colleagues").fill("Tess Tour")
    page.locator("label[for=new-role-photographer]").click()
    page.get_by_role("button", name="Add the user").click()
    expect(page.locator(".temporary-password")).to_be_visible()


def _own_password(page: Page, base: str) -> None:
    page.goto(base + "/account")
    page.get_by_role("link", name="Change your password").click()
    page.wait_for_url(re.compile(r"/account/password$"))


def _confirm(page: Page, base: str) -> None:
    page.goto(f"{base}/bedside/confirm?mrn={BEDSIDE_PATIENT}&issuer=PCDEMO")


def _consent(page: Page, base: str) -> None:
    _confirm(page, base)
    page.get_by_role("button", name="This is the patient").click()
    page.wait_for_url(re.compile(r"/consent$"))


def _camera(page: Page, base: str) -> None:
    _consent(page, base)
    for question, answer in (
        ("consent_clinical", "yes"),
        ("consent_teaching", "no"),
        ("consent_publication", "no"),
        ("consent_method", "verbal"),
    ):
        page.locator(f"label[for={question}-{answer}]").click()
    page.get_by_role("button", name="Start photographing").click()
    page.wait_for_url(SESSION_URL)


def _tags(page: Page, base: str) -> None:
    _camera(page, base)
    page.locator("[data-tag-chip]").click()
    expect(page.locator("[data-tag-sheet]")).to_be_visible()


def _zoomed(part: str, *, back: bool = False) -> Callable[[Page, str], object]:
    """The tag sheet's body map zoomed into a part (its finer sites), from the front or back."""

    def go(page: Page, base: str) -> None:
        _tags(page, base)
        sheet = page.locator("[data-tag-sheet]")
        if back:
            sheet.get_by_role("button", name="Back view").click()
        sheet.get_by_role("button", name=f"{part}: zoom in", exact=False).first.click()
        expect(sheet.get_by_role("button", name="Back to body")).to_be_visible()

    return go


def _summary(page: Page, base: str) -> None:
    _camera(page, base)
    page.goto(page.url + "/summary")


STOPS: tuple[Stop, ...] = (
    Stop("login", "/login", "", _to("/login")),
    Stop("launch-refused", "/launch", "", _to("/launch?token=not-a-token")),
    # The nurse: the bedside, from the wristband to the summary.
    Stop("home-nurse", "/", "nurse", _to("/")),
    Stop("bedside-scan", "/bedside", "nurse", _to("/bedside")),
    Stop("bedside-confirm", "/bedside/confirm", "nurse", _confirm),
    Stop("bedside-consent", "/bedside/sessions/{session_id:str}/consent", "nurse", _consent),
    Stop("bedside-capture", "/bedside/sessions/{session_id:str}", "nurse", _camera),
    Stop("bedside-tags", "/bedside/sessions/{session_id:str}", "nurse", _tags),
    Stop(
        "bedside-tags-head", "/bedside/sessions/{session_id:str}", "nurse", _zoomed("Head and neck")
    ),
    Stop("bedside-tags-hand", "/bedside/sessions/{session_id:str}", "nurse", _zoomed("Right hand")),
    Stop(
        "bedside-tags-foot-back",
        "/bedside/sessions/{session_id:str}",
        "nurse",
        _zoomed("Left foot", back=True),
    ),
    Stop("bedside-summary", "/bedside/sessions/{session_id:str}/summary", "nurse", _summary),
    Stop("account", "/account", "nurse", _to("/account")),
    Stop("account-password", "/account/password", "nurse", _own_password),
    Stop("offline", "/offline", "nurse", _to("/offline")),
    # The doctor: a patient's record.
    Stop("home", "/", "doctor", _to("/")),
    Stop("review", "/patients/{mrn:str}", "doctor", _to(HISTORY)),
    Stop("photo", "/patients/{mrn:str}/photos/{sop:str}", "doctor", _photo),
    Stop(
        "compare",
        "/patients/{mrn:str}/compare",
        "doctor",
        _from_photo("Compare over time"),
    ),
    Stop(
        "correct",
        "/patients/{mrn:str}/photos/{sop:str}/correct",
        "doctor",
        _from_photo("Correct a mistake"),
    ),
    Stop("consent", "/patients/{mrn:str}/consent", "doctor", _from_photo("Change consent")),
    Stop(
        "measure",
        "/patients/{mrn:str}/photos/{sop:str}/measure",
        "doctor",
        _from_photo("Measure"),
    ),
    Stop(
        "findings",
        "/patients/{mrn:str}/findings",
        "doctor",
        _to(HISTORY.replace("?", "/findings?")),
    ),
    Stop("finding", "/patients/{mrn:str}/findings/{finding_id:int}", "doctor", _finding),
    Stop("break-glass", "/patients/{mrn:str}/break-glass", "doctor", _break_glass),
    Stop("export", "/patients/{mrn:str}/export", "doctor", _to(HISTORY.replace("?", "/export?"))),
    Stop("upload", "/patients/{mrn:str}/upload", "doctor", _to(HISTORY.replace("?", "/upload?"))),
    Stop(
        "capture", "/patients/{mrn:str}/capture", "doctor", _to(HISTORY.replace("?", "/capture?"))
    ),
    Stop("not-found", "", "doctor", _to("/patients/PC999999?issuer=PCDEMO")),
    # The administrator: the admin pages from the admin's home.
    Stop("home-admin", "/", "admin", _to("/")),
    Stop("admin-users", "/admin/users", "admin", _admin("^Users")),
    Stop("admin-user", "/admin/users/{user_id:int}", "admin", _account_of("Nora Nurse")),
    Stop("admin-user-added", "", "admin", _user_added),  # the answer to the form, not a GET
    Stop("admin-deliveries", "/admin/deliveries", "admin", _admin("Deliveries to the PACS")),
    Stop("admin-rejected", "/admin/rejected", "admin", _admin("Rejected objects")),
    Stop("admin-audit", "/admin/audit", "admin", _admin("Audit trail")),
)


PASSWORDS = {username: password for username, _role, _name, password in DEMO_USERS}


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def walk(
    browser: Browser,
    device: Mapping[str, Any],
    base: str,
    stops: tuple[Stop, ...] = STOPS,
) -> Iterator[tuple[Stop, Page]]:
    """Each stop of the tour, opened on a page signed in as its user (one browser context per
    run of stops by the same user, so the bedside stops share nothing with the doctor's)."""
    context: BrowserContext | None = None
    page: Page | None = None
    user = None
    try:
        for stop in stops:
            if page is None or context is None or stop.user != user:
                if context is not None:
                    context.close()
                context = browser.new_context(**device)
                page = context.new_page()
                page.set_default_timeout(30_000)
                user = stop.user
                if user:
                    sign_in(page, base, user, PASSWORDS[user])
            stop.go(page, base)
            page.wait_for_load_state("networkidle")
            yield stop, page
    finally:
        if context is not None:
            context.close()
