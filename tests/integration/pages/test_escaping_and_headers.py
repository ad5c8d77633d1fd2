"""Names are data, never markup; and no page is ever cached."""

from __future__ import annotations

import re
from datetime import date

import pytest

from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.identity.directory import upsert_patient
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import HTMX, OBERG, Capture, SignIn

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def hostile_patient(runtime: Runtime, demo_patients: int) -> str:
    with runtime.db.write() as session:
        upsert_patient(
            session,
            PatientIdentity(
                mrn="XSS1",
                issuer="PCDEMO",
                family_name=SCRIPT,
                given_name='Ann "Quote" <b>bold</b> & co',
                birth_date=date(1970, 1, 1),
                sex=Sex.FEMALE,
            ),
        )
    return "/patients/XSS1"


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html.lower()
    assert "<b>bold</b>" not in html
    assert "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in html or "&lt;script&gt;alert(1)" in html


def test_a_hostile_name_is_escaped_on_every_page(
    browser: SignIn, capture: Capture, hostile_patient: str
) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")

    found = nurse.get("/", params={"mrn": "XSS1"}).text
    searched = nurse.get("/", params={"name": "script alert"}, headers=HTMX).text
    capture_page = nurse.get(f"{hostile_patient}/capture").text
    stored = capture(nurse, patient=hostile_patient).text
    review = doctor.get(hostile_patient).text
    link = re.search(r'class="photo-link" href="([^"]+)"', review)
    assert link
    photo = doctor.get(link.group(1).replace("&amp;", "&")).text

    for html in (found, capture_page, stored, review, photo):
        assert_escaped(html)
        assert "Ann &#34;Quote&#34; &lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert_escaped(searched)
    assert "Stored for" in stored


def test_apostrophes_and_letters_beyond_ascii_are_shown_as_written(browser: SignIn) -> None:
    nurse = browser("photographer")

    obrien = nurse.get("/", params={"name": "o'brien"}).text
    oberg = nurse.get(f"{OBERG}/capture").text

    assert '<span class="family-name">O&#39;BRIEN</span>, <span class="given-name">Seán</span>' in (
        obrien
    )
    assert '<span class="family-name">ÖBERG</span>, <span class="given-name">Åsa</span>' in oberg


def test_every_page_answer_is_marked_no_store(browser: SignIn, capture: Capture) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    stored = capture(nurse)
    sop = re.search(r'SOP Instance UID <span class="mono">([0-9.]+)<', stored.text)
    assert sop

    answers = {
        "sign-in form": nurse.get("/login"),
        "failed sign-in": nurse.post("/login", data={"username": "x", "password": "y"}),
        "home": nurse.get("/"),
        "search": nurse.get("/", params={"name": "oberg"}),
        "capture": nurse.get(f"{OBERG}/capture"),
        "stored": stored,
        "refused photo": capture(nurse, laterality=None),
        "forbidden review": nurse.get(OBERG),
        "review": doctor.get(OBERG),
        "photo": doctor.get(f"{OBERG}/photos/{sop.group(1)}"),
        "not found": doctor.get("/patients/NOPE1"),
        "sign-out": nurse.post("/logout", follow_redirects=False),
    }

    for name, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", name
        assert "script-src 'self'" in answer.headers["content-security-policy"], name


def test_pages_carry_no_inline_script_or_style(browser: SignIn, capture: Capture) -> None:
    nurse = browser("photographer")
    pages = [nurse.get("/login").text, nurse.get(f"{OBERG}/capture").text, capture(nurse).text]

    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert " style=" not in html
        assert "<style" not in html
        assert not re.search(r"\son[a-z]+=", html)
