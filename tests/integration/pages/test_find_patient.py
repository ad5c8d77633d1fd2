"""Home: find a patient by MRN, or by name and birth date; links by role."""

from __future__ import annotations

import pytest

from tests.integration.pages.conftest import HTMX, SignIn


def test_an_mrn_finds_one_patient_with_a_link_to_capture(browser: SignIn) -> None:
    nurse = browser("photographer")

    page = nurse.get("/", params={"mrn": "PC100001"})

    assert page.status_code == 200
    assert "1 patient found" in page.text
    assert "ÖBERG" in page.text
    assert "14 Mar 1957" in page.text
    assert 'href="/patients/PC100001/capture?issuer=PCDEMO"' in page.text
    # A photographer captures but does not review.
    assert 'href="/patients/PC100001?issuer=PCDEMO"' not in page.text


def test_a_clinician_also_gets_a_link_to_review(browser: SignIn) -> None:
    doctor = browser("clinician")

    page = doctor.get("/", params={"mrn": "PC100001"})

    assert 'href="/patients/PC100001?issuer=PCDEMO"' in page.text


def test_name_and_birth_date_tell_look_alikes_apart(browser: SignIn) -> None:
    nurse = browser("photographer")

    both = nurse.get("/", params={"name": "andersson eva"})
    one = nurse.get("/", params={"name": "andersson eva", "birth_date": "1985-01-23"})

    assert "2 patients found" in both.text
    assert "Check two identifiers" in both.text
    assert "1 patient found" in one.text
    assert "PC100005" in one.text
    assert "PC100004" not in one.text


def test_an_unknown_mrn_says_what_to_do(browser: SignIn) -> None:
    page = browser("photographer").get("/", params={"mrn": "NOPE1"})

    assert page.status_code == 200
    assert "No patient found" in page.text
    assert "search by name and birth date" in page.text


def test_a_malformed_birth_date_is_shown_next_to_the_field(browser: SignIn) -> None:
    page = browser("photographer").get("/", params={"name": "oberg", "birth_date": "14/03/1957"})

    assert page.status_code == 422
    assert 'id="birth_date-error"' in page.text
    assert "YYYY-MM-DD" in page.text
    assert 'aria-invalid="true"' in page.text


def test_htmx_gets_only_the_search_section_back(browser: SignIn) -> None:
    nurse = browser("photographer")

    found = nurse.get("/", params={"mrn": "PC100003"}, headers=HTMX)
    refused = nurse.get("/", params={"birth_date": "not-a-date"}, headers=HTMX)

    assert found.status_code == 200
    assert found.text.lstrip().startswith('<section id="find"')
    assert "<html" not in found.text
    assert "O&#39;BRIEN" in found.text
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#find"
    assert refused.headers["HX-Reswap"] == "outerHTML"


ADMIN_PAGES = (
    'href="/admin/users"',
    'href="/admin/deliveries"',
    'href="/admin/rejected"',
    'href="/admin/audit"',
)


@pytest.mark.parametrize("role", ["photographer", "clinician", "admin"])
def test_only_an_admin_home_leads_to_the_admin_pages(browser: SignIn, role: str) -> None:
    home = browser(role).get("/").text

    assert [link in home for link in ADMIN_PAGES] == [role == "admin"] * len(ADMIN_PAGES)
