"""One identity check on every path: an MRN typed in lower case, or with blanks around it,
finds the patient wherever a patient is looked up by MRN (find patient, bedside, the capture
page, the patients and photos APIs; the correction's target in test_corrections)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.tools import corpus

TYPED = "  pc100005 "
"""Eva Andersson's MRN (PC100005), as a hurried user types it."""


@dataclass
class WaysIn:
    browser: SignIn
    bearer: Callable[[str], dict[str, str]]
    client: TestClient[Litestar]
    upload: Upload


def find_patient(ways: WaysIn) -> None:
    page = ways.browser("photographer").get("/", params={"mrn": TYPED})
    assert "1 patient found" in page.text and "PC100005" in page.text


def bedside(ways: WaysIn) -> None:
    nurse = ways.browser("photographer")
    answer = nurse.get("/bedside", params={"mrn": TYPED}, follow_redirects=False)
    assert answer.status_code == 303
    assert "mrn=PC100005" in answer.headers["location"]


def capture_page(ways: WaysIn) -> None:
    page = ways.browser("photographer").get("/patients/pc100005/capture")
    assert page.status_code == 200 and "PC100005" in page.text


def patients_api(ways: WaysIn) -> None:
    answer = ways.client.get(
        "/api/v1/patients", params={"identifier": TYPED}, headers=ways.bearer("photographer")
    )
    assert answer.status_code == 200
    assert [patient["mrn"] for patient in answer.json()] == ["PC100005"]


def photos_api(ways: WaysIn) -> None:
    answer = ways.upload(corpus("photos", "gps", "DSCN0010.jpg"), patient_id=TYPED)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "way_in",
    [find_patient, bedside, capture_page, patients_api, photos_api],
    ids=lambda f: f.__name__,
)
def test_an_mrn_is_found_whatever_its_case_and_blanks(
    way_in: Callable[[WaysIn], None],
    browser: SignIn,
    bearer: Callable[[str], dict[str, str]],
    client: TestClient[Litestar],
    upload: Upload,
) -> None:
    way_in(WaysIn(browser, bearer, client, upload))
