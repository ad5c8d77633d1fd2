"""Compare: the photo asked for beside the latest others of the same site and side, oldest
first, with the days between them; bad selections are refused readably."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.tools import corpus

OBERG = "/patients/PC100001"
ISSUER = "?issuer=PCDEMO"


def _store(upload: Upload, day: str, **fields: str) -> str:
    response = upload(
        corpus("photos", "gps", "DSCN0010.jpg"),
        role="clinician",
        captured_at=f"2026-05-{day}T10:15:00+02:00",
        **fields,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sop_instance_uid"])


def _panes(html: str) -> list[str]:
    return re.findall(r"/instances/([0-9.]+)/rendered\?viewport=1600,1600", html)


def test_one_photo_is_compared_with_the_same_site_and_side_over_time(
    browser: SignIn, upload: Upload
) -> None:
    first = _store(upload, "01", body_site="14975008", laterality="L")
    second = _store(upload, "15", body_site="14975008", laterality="L")
    _store(upload, "20", body_site="14975008", laterality="R")  # the other forearm
    _store(upload, "21", body_site="40983000", laterality="L")  # another site
    latest = _store(upload, "29", body_site="14975008", laterality="L")
    page = browser("clinician").get(f"{OBERG}/compare{ISSUER}&photo={second}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert _panes(page.text) == [first, second, latest]
    assert "day 14" in page.text and "day 28" in page.text
    assert "data-zoom-group" in page.text and 'data-full-src="' in page.text


def test_the_back_of_a_thigh_is_compared_with_its_back_not_its_front(
    browser: SignIn, upload: Upload
) -> None:
    thigh = {"body_site": "68367000", "laterality": "R"}
    back = _store(upload, "02", **thigh, aspect="posterior")
    _store(upload, "09", **thigh, aspect="anterior")  # another wound: the front
    unstated = _store(upload, "16", **thigh)  # may show either
    latest = _store(upload, "23", **thigh, aspect="posterior")
    page = browser("clinician").get(f"{OBERG}/compare{ISSUER}&photo={latest}")
    assert _panes(page.text) == [back, unstated, latest]
    assert "Right thigh, back" in page.text


def test_chosen_photos_are_shown_oldest_first(browser: SignIn, upload: Upload) -> None:
    late = _store(upload, "20")
    early = _store(upload, "02", body_site="40983000")
    page = browser("clinician").get(f"{OBERG}/compare{ISSUER}&photo={late}&photo={early}")
    assert _panes(page.text) == [early, late]


@pytest.mark.parametrize("count", [0, 5])
def test_too_few_or_too_many_photos_are_refused(
    browser: SignIn, upload: Upload, count: int
) -> None:
    uids = [_store(upload, f"{day:02d}") for day in range(1, count + 1)]
    query = "".join(f"&photo={uid}" for uid in uids)
    page = browser("clinician").get(f"{OBERG}/compare{ISSUER}{query}")
    assert page.status_code == 422
    assert ("Choose a photo" if count == 0 else "at most 4") in page.text


def test_another_patients_photo_cannot_be_compared_here(browser: SignIn, upload: Upload) -> None:
    uid = _store(upload, "03")
    page = browser("clinician").get(f"/patients/PC100002/compare{ISSUER}&photo={uid}")
    assert page.status_code == 422
    assert "not in this patient" in page.text
    assert browser("photographer").get(f"{OBERG}/compare{ISSUER}&photo={uid}").status_code == 403


def test_compare_matches_the_view_unless_asked_for_every_view(
    browser: SignIn, upload: Upload
) -> None:
    overviews = [_store(upload, day, view="overview") for day in ("03", "10", "17")]
    close_ups = [_store(upload, day, view="close-up") for day in ("04", "11")]
    anchor = _store(upload, "18", view="close-up")
    doctor = browser("clinician")

    page = doctor.get(f"{OBERG}/compare{ISSUER}&photo={anchor}")
    assert _panes(page.text) == [*close_ups, anchor]
    assert "Same site, side and view" in page.text
    wider = doctor.get(f"{OBERG}/compare{ISSUER}&photo={anchor}&views=any")
    # Every view: the three latest others, whatever their view.
    assert _panes(wider.text) == [overviews[1], close_ups[1], overviews[2], anchor]
