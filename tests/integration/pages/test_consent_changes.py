"""Consent over time: a change shows at once on the pages and governs the teaching export."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare import audit
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.tools import corpus

PATIENT = "/patients/PC100001"
ISSUER = "?issuer=PCDEMO"


def _store(upload: Upload, **fields: str) -> str:
    response = upload(corpus("photos", "gps", "DSCN0010.jpg"), role="clinician", **fields)
    assert response.status_code == 201, response.text
    return str(response.json()["sop_instance_uid"])


def _change(client: TestClient[Litestar], photo: str | None = None, **fields: str):  # type: ignore[no-untyped-def]
    suffix = f"&photo={photo}" if photo else ""
    form = {"scope": "teaching", "granted": "false", "method": "verbal", "note": ""} | fields
    return client.post(f"{PATIENT}/consent{ISSUER}{suffix}", data=form, follow_redirects=False)


def _teaching_export(client: TestClient[Litestar], *uids: str):  # type: ignore[no-untyped-def]
    return client.post(f"{PATIENT}/export/teaching{ISSUER}", data={"photos": list(uids)})


def test_withdrawn_teaching_consent_takes_effect_at_once(
    browser: SignIn, upload: Upload, runtime: Runtime
) -> None:
    uid = _store(upload, consent_teaching="true")
    clinician = browser("clinician")
    assert _teaching_export(clinician, uid).status_code == 200

    answer = _change(clinician, uid, note="Changed her mind at follow-up")
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("recorded=true")
    page = clinician.get(f"{PATIENT}/photos/{uid}{ISSUER}")
    assert "No teaching" in page.text and "Changed since" in page.text
    review = clinician.get(f"{PATIENT}{ISSUER}")
    assert "No teaching" in review.text
    consent = clinician.get(answer.headers["location"])
    assert "Teaching withdrawn" in consent.text and "Changed her mind" in consent.text

    refused = _teaching_export(clinician, uid)
    assert refused.status_code == 422
    assert "no consent for teaching" in refused.text

    with runtime.db.session() as session:
        found = audit.search(session, audit.AuditQuery(action=audit.AuditAction.CONSENT_CHANGED))
    (event,) = found.events
    assert event.objects == [uid]
    assert event.details == {
        "scope": "teaching",
        "granted": False,
        "method": "verbal",
        "applies_to": "photo",
    }


def test_patient_wide_change_spares_photos_taken_later(browser: SignIn, upload: Upload) -> None:
    earlier = _store(upload, consent_teaching="true")
    clinician = browser("clinician")
    assert _change(clinician).status_code == 303  # withdraw teaching for all photos so far
    later = _store(upload, consent_teaching="true")
    response = _teaching_export(clinician, earlier, later)
    assert response.status_code == 200
    assert response.headers["x-pointcare-left-out"] == "1"


def test_consent_given_later_lets_a_photo_into_teaching(browser: SignIn, upload: Upload) -> None:
    uid = _store(upload, consent_teaching="false")
    clinician = browser("clinician")
    assert _teaching_export(clinician, uid).status_code == 422
    assert _change(clinician, uid, granted="true", method="written").status_code == 303
    assert _teaching_export(clinician, uid).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scope": ""}, "Choose teaching or publication."),
        ({"scope": "research"}, "Choose teaching or publication."),
        ({"granted": "maybe"}, "Choose whether consent is given or withdrawn."),
        ({"method": "telepathy"}, "Choose how the patient gave or withdrew consent."),
        ({"granted": "true", "method": "best_interests"}, "covers the clinical record only"),
        ({"note": "x" * 201}, "Keep the note under 200 characters."),
    ],
)
def test_bad_changes_are_refused_readably_and_record_nothing(
    browser: SignIn, upload: Upload, runtime: Runtime, fields: dict[str, str], message: str
) -> None:
    uid = _store(upload, consent_teaching="true")
    clinician = browser("clinician")
    answer = _change(clinician, uid, **fields)
    assert answer.status_code == 422
    assert message in answer.text
    assert "The consent change was not recorded." in answer.text
    with runtime.db.session() as session:
        found = audit.search(session, audit.AuditQuery(action=audit.AuditAction.CONSENT_CHANGED))
    assert found.total == 0
    assert _teaching_export(clinician, uid).status_code == 200


def test_only_reviewers_change_consent_and_only_for_the_patients_own_photo(
    browser: SignIn, upload: Upload
) -> None:
    uid = _store(upload, consent_teaching="true")
    assert _change(browser("photographer"), uid).status_code == 403
    clinician = browser("clinician")
    other = clinician.post(
        f"/patients/PC100002/consent{ISSUER}&photo={uid}",
        data={"scope": "teaching", "granted": "false", "method": "verbal"},
    )
    assert other.status_code == 404
    assert _teaching_export(clinician, uid).status_code == 200
