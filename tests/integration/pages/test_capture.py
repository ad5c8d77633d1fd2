"""The capture page: banner, form, storing through the API's path, idempotent retries, errors."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import HTML, HTMX, OBERG, Capture, SignIn, capture_id_in


def stored_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(Instance)) or 0


def test_the_capture_page_shows_the_patient_and_a_fresh_form(browser: SignIn) -> None:
    page = browser("photographer").get(f"{OBERG}/capture", params={"issuer": "PCDEMO"})

    assert page.status_code == 200
    banner = page.text[page.text.index('class="patient-banner"') :]
    assert 'role="region" aria-label="Patient"' in page.text
    assert '<span class="family-name">ÖBERG</span>, <span class="given-name">Åsa</span>' in banner
    assert "14 Mar 1957" in banner
    assert "Female" in banner
    assert "PC100001" in banner
    uuid.UUID(capture_id_in(page.text))
    assert 'accept="image/*" capture="environment"' in page.text
    assert '<optgroup label="Upper limb">' in page.text
    # Every consent question is asked, and none starts answered.
    for question in ("consent_clinical", "consent_teaching", "consent_publication"):
        for answer in ("yes", "no"):
            radio = re.search(rf'<input type="radio" id="{question}-{answer}"[^>]*>', page.text)
            assert radio and "checked" not in radio.group(0)
    assert not re.search(r'name="consent_method"[^>]*checked', page.text)
    assert "Not asked yet" in page.text


def test_two_renders_of_the_form_get_different_capture_ids(browser: SignIn) -> None:
    nurse = browser("photographer")
    first = nurse.get(f"{OBERG}/capture", params={"issuer": "PCDEMO"}).text
    second = nurse.get(f"{OBERG}/capture", params={"issuer": "PCDEMO"}).text

    assert capture_id_in(first) != capture_id_in(second)


def test_look_alike_patients_get_a_warning_in_the_banner(browser: SignIn) -> None:
    page = browser("photographer").get("/patients/PC100004/capture")

    assert "Another patient has the same name" in page.text


def test_capture_by_query_redirects_to_the_patient(browser: SignIn) -> None:
    answer = browser("photographer").get(
        "/capture", params={"mrn": "PC100003"}, follow_redirects=False
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/patients/PC100003/capture"


def test_an_unknown_patient_gets_a_calm_404_page(browser: SignIn) -> None:
    page = browser("photographer").get("/patients/NOPE1/capture")

    assert page.status_code == 404
    assert "No patient with MRN NOPE1 is known" in page.text
    assert "Traceback" not in page.text


def test_sending_a_photo_stores_it_and_offers_the_next(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    capture_id = str(uuid.uuid4())

    answer = capture(nurse, capture_id=capture_id)

    assert answer.status_code == 201
    assert "Stored for" in answer.text
    assert "ÖBERG" in answer.text
    assert "— Left forearm" in answer.text
    with runtime.db.session() as session:
        instance = session.scalars(select(Instance)).one()
        assert instance.capture_id == capture_id
        assert instance.body_site_code == "14975008"
        assert instance.laterality == "L"
        assert instance.consent.teaching is True
        assert instance.consent.publication is False
        assert instance.captured_tz_offset_minutes == 120
    assert instance.sop_instance_uid in answer.text
    # The next photo gets a new capture_id; the tags and consent carry over.
    assert capture_id_in(answer.text) != capture_id
    assert re.search(r'<option value="14975008"[^>]*selected', answer.text)
    assert re.search(r'id="laterality-L"[^>]*checked', answer.text)
    assert re.search(r'id="consent_teaching-yes"[^>]*checked', answer.text)
    assert re.search(r'id="consent_publication-no"[^>]*checked', answer.text)


def test_a_resend_with_the_same_capture_id_stores_nothing_new(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    capture_id = str(uuid.uuid4())
    first = capture(nurse, capture_id=capture_id)

    again = capture(nurse, capture_id=capture_id)

    assert first.status_code == 201
    assert again.status_code == 200
    assert "Already stored" in again.text
    assert "Nothing new was stored" in again.text
    assert stored_count(runtime) == 1


def test_a_site_without_its_side_is_refused_next_to_the_field(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), laterality=None, description="left of the scar")

    assert answer.status_code == 422
    assert "The photo was not stored" in answer.text
    assert 'id="laterality-error"' in answer.text
    assert "Choose the side" in answer.text
    assert 'href="#laterality-R"' in answer.text
    # What was typed is kept.
    assert "left of the scar</textarea>" in answer.text
    assert stored_count(runtime) == 0


def test_a_form_without_photo_lists_every_problem(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    answer = nurse.post(
        f"{OBERG}/photos",
        params={"issuer": "PCDEMO"},
        files={"file": ("", b"", "application/octet-stream")},
        data={"consent_clinical": "true", "capture_id": str(uuid.uuid4())},
    )

    assert answer.status_code == 422
    assert 'id="file-error"' in answer.text
    assert 'id="body_site-error"' in answer.text
    assert "Take or choose a photo." in answer.text
    assert "Choose the body site." in answer.text
    assert stored_count(runtime) == 0


def test_without_clinical_record_consent_nothing_is_stored(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), consent_clinical="no", consent_teaching="no")

    assert answer.status_code == 422
    assert 'id="consent_clinical-error"' in answer.text
    assert "not consented to photographs for the clinical record" in answer.text
    assert stored_count(runtime) == 0


def test_best_interests_cannot_cover_teaching(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), consent_method="best_interests")

    assert answer.status_code == 422
    assert 'id="consent_teaching-error"' in answer.text
    assert "best interests" in answer.text
    assert stored_count(runtime) == 0


def test_a_file_that_is_not_a_photo_is_refused(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), photo=b"%PDF-1.4 not a photo")

    assert answer.status_code == 415
    assert 'id="file-error"' in answer.text
    assert stored_count(runtime) == 0


def test_htmx_answers_are_the_panel_and_keep_the_chosen_photo_on_errors(
    browser: SignIn, capture: Capture
) -> None:
    nurse = browser("photographer")

    refused = capture(nurse, headers=HTMX, laterality=None)
    stored = capture(nurse, headers=HTMX)

    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<div id="capture-panel"')
    assert refused.headers["HX-Retarget"] == "#capture-panel"
    assert 'id="photo-picker" class="photo-picker" hx-preserve="true"' in refused.text
    assert stored.status_code == 201
    assert stored.text.lstrip().startswith('<div id="capture-panel"')
    assert "hx-preserve" not in stored.text


def test_a_session_that_ended_answers_htmx_in_the_alert_area(
    browser: SignIn, capture: Capture
) -> None:
    nurse = browser("photographer")
    nurse.post("/logout")

    answer = capture(nurse, headers=HTMX)

    assert answer.status_code == 401
    assert "<html" not in answer.text
    assert 'href="/login"' in answer.text


def test_the_form_also_works_without_htmx(browser: SignIn, capture: Capture) -> None:
    answer = capture(browser("photographer"), headers=HTML)

    assert answer.status_code == 201
    assert answer.text.lstrip().startswith("<!doctype html>")
    assert 'action="/patients/PC100001/photos?issuer=PCDEMO"' in answer.text
    assert 'enctype="multipart/form-data"' in answer.text


def test_a_mangled_capture_id_is_replaced_not_refused(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), capture_id="not-a-uuid")

    assert answer.status_code == 201
    with runtime.db.session() as session:
        stored = session.scalars(select(Instance.capture_id)).one()
    uuid.UUID(stored)


def test_consent_left_unanswered_is_asked_for_not_assumed(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    unanswered = dict.fromkeys(
        ("consent_clinical", "consent_teaching", "consent_publication", "consent_method"), ""
    )
    answer = capture(browser("photographer"), **unanswered)

    assert answer.status_code == 422
    for question in unanswered:
        assert f'id="{question}-error"' in answer.text
    assert "Answer whether the patient agrees to photographs for the clinical record" in answer.text
    assert stored_count(runtime) == 0


def test_a_damaged_photo_is_refused_with_its_reason(
    browser: SignIn, capture: Capture, photo_bytes: bytes, runtime: Runtime
) -> None:
    answer = capture(browser("photographer"), photo=photo_bytes[: len(photo_bytes) // 2])

    assert answer.status_code == 422
    assert "damaged or incomplete" in answer.text
    assert "Take or choose a photo." not in answer.text
    assert stored_count(runtime) == 0


def test_the_same_photo_again_is_already_stored_unless_meant(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    first = capture(nurse, allow_duplicate=None)
    again = capture(nurse, allow_duplicate=None)

    assert first.status_code == 201
    assert again.status_code == 200
    assert "Already stored for" in again.text
    assert "already stored for this patient on" in again.text
    assert stored_count(runtime) == 1
    assert capture(nurse, allow_duplicate="true").status_code == 201
    assert stored_count(runtime) == 2
