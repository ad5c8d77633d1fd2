"""The bedside flow over HTTP: scan fallbacks, confirmation, consent, photos, summary, unlock."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare.db.models import BedsideSession, ConsentRecord, Instance
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import HTMX, SignIn, path_of
from tests.support.tools import corpus

Client = TestClient[Litestar]
JSON = {"Accept": "application/json"}
OBERG = ("PC100001", "PCDEMO")
"""Öberg, Åsa: a visit, no namesake."""
EVA = ("PC100004", "PCDEMO")
"""Andersson, Eva (1962): another Eva Andersson (1985) exists."""


def csrf(client: Client) -> dict[str, str]:
    """The CSRF header a page of this browser carries (its meta tag)."""
    html = client.get("/bedside").text
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "no csrf-token meta tag"
    return {"X-CSRF-Token": found.group(1)}


def confirmation_of(client: Client, mrn: str, issuer: str) -> str:
    page = client.get("/bedside/confirm", params={"mrn": mrn, "issuer": issuer})
    assert page.status_code == 200, page.text
    found = re.search(r'name="confirmation" value="([0-9a-f]+)"', page.text)
    assert found, "no confirmation key on the card"
    return found.group(1)


def open_session(client: Client, patient: tuple[str, str] = OBERG) -> str:
    mrn, issuer = patient
    response = client.post(
        "/bedside/sessions",
        data={"mrn": mrn, "issuer": issuer, "confirmation": confirmation_of(client, mrn, issuer)},
        headers=csrf(client),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/bedside/sessions/([0-9a-f-]{36})/consent", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def give_consent(client: Client, session_id: str, **answers: str) -> httpx.Response:
    form = {
        "consent_clinical": "yes",
        "consent_teaching": "no",
        "consent_publication": "no",
        "consent_method": "verbal",
        **answers,
    }
    return client.post(
        f"/bedside/sessions/{session_id}/consent",
        data={key: value for key, value in form.items() if value is not None},
        headers=csrf(client),
        follow_redirects=False,
    )


def send_photo(
    client: Client, session_id: str, photo: bytes | None, **fields: Any
) -> httpx.Response:
    form: dict[str, Any] = {
        "body_site": "14975008",
        "laterality": "L",
        "view": "close-up",
        "sensitive": "false",
        "capture_id": str(uuid.uuid4()),
        "captured_at": "2026-05-04T10:15:00+02:00",
        "allow_duplicate": "true",  # the tests send one picture many times; a camera never does
    }
    form.update(fields)
    form = {key: value for key, value in form.items() if value is not None}
    # No photo: the empty file field a browser sends when none was chosen.
    files = {"file": ("IMG_0001.jpg", photo, "image/jpeg") if photo is not None else ("", b"")}
    return client.post(
        f"/bedside/sessions/{session_id}/photos",
        data=form,
        files=files,
        headers={**JSON, **csrf(client)},
    )


def count(runtime: Runtime, model: type[Any]) -> int:
    with runtime.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
def nurse(browser: SignIn) -> Client:
    return browser("photographer")


@pytest.fixture
def ready(nurse: Client) -> str:
    """A session for Öberg with verbal consent for the record and teaching."""
    session_id = open_session(nurse)
    assert give_consent(nurse, session_id, consent_teaching="yes").status_code == 303
    return session_id


# --- Scan screen and its fallbacks -------------------------------------------------------------


def test_home_offers_bedside_capture(nurse: Client) -> None:
    assert 'href="/bedside"' in nurse.get("/").text


def test_scan_screen_has_the_viewfinder_and_both_fallbacks(nurse: Client) -> None:
    page = nurse.get("/bedside")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "data-bedside-scan" in page.text and "/static/js/bedside-scan.js" in page.text
    assert "Type MRN" in page.text and "Search by name and birth date" in page.text


def test_a_typed_mrn_goes_straight_to_the_confirmation_card(nurse: Client) -> None:
    response = nurse.get("/bedside", params={"mrn": " PC100001 "}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/bedside/confirm?mrn=PC100001&issuer=PCDEMO"
    htmx = nurse.get("/bedside", params={"mrn": "PC100001"}, headers=HTMX)
    assert htmx.headers["hx-redirect"] == "/bedside/confirm?mrn=PC100001&issuer=PCDEMO"


def test_an_unknown_mrn_says_so_and_offers_the_search(nurse: Client) -> None:
    page = nurse.get("/bedside", params={"mrn": "PC999999"})
    assert page.status_code == 200
    assert "No patient has MRN" in page.text and "PC999999" in page.text


def test_a_malformed_mrn_is_a_readable_422(nurse: Client) -> None:
    page = nurse.get("/bedside", params={"mrn": "bad\\mrn"})
    assert page.status_code == 422
    assert 'id="mrn-error"' in page.text


def test_name_and_birth_date_search_links_to_the_card(nurse: Client) -> None:
    page = nurse.get("/bedside", params={"name": "andersson eva"}, headers=HTMX)
    assert page.status_code == 200
    assert "2 patients found" in page.text
    links = re.findall(r'href="(/bedside/confirm\?[^"]+)"', page.text)
    assert [path_of(link) for link in links] == [
        "/bedside/confirm?mrn=PC100004&issuer=PCDEMO",
        "/bedside/confirm?mrn=PC100005&issuer=PCDEMO",
    ]
    narrowed = nurse.get("/bedside", params={"name": "Andersson", "birth_date": "1985-01-23"})
    assert "1 patient found" in narrowed.text and "PC100005" in narrowed.text


def test_a_bad_birth_date_is_a_readable_422(nurse: Client) -> None:
    page = nurse.get("/bedside", params={"name": "Eva", "birth_date": "23/01/1985"})
    assert page.status_code == 422
    assert "YYYY-MM-DD" in page.text


def test_the_scan_screen_needs_a_signed_in_user(client: Client, demo_patients: int) -> None:
    response = client.get("/bedside", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fbedside"


# --- Confirmation --------------------------------------------------------------------------------


def test_the_card_shows_two_identifiers_sex_mrn_and_encounter(nurse: Client) -> None:
    page = nurse.get("/bedside/confirm", params={"mrn": "PC100001", "issuer": "PCDEMO"})
    assert page.status_code == 200
    text = page.text
    for shown in ("ÖBERG", "Åsa", "14 Mar 1957", "Female", "PC100001", "V24-000101"):
        assert shown in text
    assert "Another patient has the same name" not in text
    assert "This is the patient" in text and "Not this patient" in text


def test_the_card_warns_of_a_namesake(nurse: Client) -> None:
    page = nurse.get("/bedside/confirm", params={"mrn": "PC100004", "issuer": "PCDEMO"})
    assert "Another patient has the same name" in page.text


def test_the_card_says_when_there_is_no_encounter(nurse: Client) -> None:
    page = nurse.get("/bedside/confirm", params={"mrn": "PC100013"})
    assert "No current encounter" in page.text


def test_the_card_without_or_with_an_unknown_mrn(nurse: Client) -> None:
    empty = nurse.get("/bedside/confirm", follow_redirects=False)
    assert empty.status_code == 303 and empty.headers["location"] == "/bedside"
    unknown = nurse.get("/bedside/confirm", params={"mrn": "PC999999"})
    assert unknown.status_code == 404
    assert "No patient with MRN PC999999" in unknown.text


# --- Opening a session: only for the identity the user confirmed ----------------------------------


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"mrn": "PC100001", "issuer": "PCDEMO"}, 422),
        ({"mrn": "PC100001", "issuer": "PCDEMO", "confirmation": "0" * 32}, 409),
        ({"issuer": "PCDEMO", "confirmation": "0" * 32}, 422),
        ({"mrn": "PC999999", "issuer": "PCDEMO", "confirmation": "0" * 32}, 404),
    ],
    ids=["unconfirmed", "confirmed-another-identity", "no-patient", "unknown-patient"],
)
def test_no_session_without_the_confirmation_of_that_patient(
    nurse: Client, runtime: Runtime, form: dict[str, str], status: int
) -> None:
    response = nurse.post("/bedside/sessions", data=form, headers=csrf(nurse))
    assert response.status_code == status, response.text
    assert count(runtime, BedsideSession) == 0


def test_the_card_of_one_patient_does_not_open_another(nurse: Client, runtime: Runtime) -> None:
    key = confirmation_of(nurse, *EVA)
    response = nurse.post(
        "/bedside/sessions",
        data={"mrn": "PC100005", "issuer": "PCDEMO", "confirmation": key},
        headers=csrf(nurse),
    )
    assert response.status_code == 409
    assert count(runtime, BedsideSession) == 0


# --- Consent --------------------------------------------------------------------------------------


def test_capture_waits_for_consent(nurse: Client) -> None:
    session_id = open_session(nurse)
    response = nurse.get(f"/bedside/sessions/{session_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/bedside/sessions/{session_id}/consent"
    page = nurse.get(f"/bedside/sessions/{session_id}/consent")
    assert page.status_code == 200
    assert "ÖBERG" in page.text and "Start photographing" in page.text
    assert "Recorded by <strong>Nurse</strong>" in page.text
    refused = send_photo(nurse, session_id, b"not used")
    assert_problem(refused, 422)


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"consent_clinical": None}, "consent_clinical"),
        ({"consent_teaching": None}, "consent_teaching"),
        ({"consent_publication": None}, "consent_publication"),
        ({"consent_clinical": "maybe"}, "consent_clinical"),
        ({"consent_method": None}, "consent_method"),
        ({"consent_method": "telepathy"}, "consent_method"),
        ({"consent_teaching": "perhaps"}, "consent_teaching"),
        ({"consent_method": "best_interests", "consent_publication": "yes"}, "consent_teaching"),
        ({"consent_clinical": "no", "consent_teaching": "yes"}, "consent_teaching"),
    ],
    ids=[
        "no-answer",
        "teaching-not-asked",
        "publication-not-asked",
        "not-yes-or-no",
        "no-method",
        "unknown-method",
        "bad-teaching",
        "best-interests-beyond-the-record",
        "teaching-without-record",
    ],
)
def test_bad_consent_answers_are_refused_and_nothing_is_recorded(
    nurse: Client, runtime: Runtime, answers: dict[str, str | None], field: str
) -> None:
    session_id = open_session(nurse)
    response = give_consent(nurse, session_id, **answers)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert "The consent was not recorded" in response.text
    with runtime.db.session() as session:
        record = session.get_one(BedsideSession, session_id)
        assert record.consent_id is None


def test_consent_is_recorded_with_who_and_when(
    nurse: Client, runtime: Runtime, ready: str, accounts: dict[str, Any]
) -> None:
    with runtime.db.session() as session:
        record = session.get_one(BedsideSession, ready)
        consent = record.consent
        assert consent is not None
        assert (consent.clinical_record, consent.teaching, consent.publication) == (
            True,
            True,
            False,
        )
        assert consent.method == "verbal"
        assert consent.recorded_by_id == accounts["photographer"].user_id
        assert consent.recorded_at is not None
        assert consent.session_key == f"session:{ready}"
    page = nurse.get(f"/bedside/sessions/{ready}")
    assert page.status_code == 200
    assert 'aria-label="Patient"' in page.text and "ÖBERG" in page.text
    assert "Clinical record and teaching" in page.text


def test_declined_clinical_record_blocks_capture_with_an_explanation(
    nurse: Client, runtime: Runtime, photo_bytes: bytes
) -> None:
    session_id = open_session(nurse)
    response = give_consent(nurse, session_id, consent_clinical="no")
    assert response.status_code == 303
    assert response.headers["location"] == f"/bedside/sessions/{session_id}/consent"
    page = nurse.get(f"/bedside/sessions/{session_id}/consent")
    assert "No photos in this session" in page.text
    assert "declined photographs for the clinical record" in page.text
    capture = nurse.get(f"/bedside/sessions/{session_id}", follow_redirects=False)
    assert capture.status_code == 303
    body = assert_problem(send_photo(nurse, session_id, photo_bytes), 422)
    assert "declined" in body["detail"]
    assert count(runtime, Instance) == 0
    # The patient changes their mind: consent recorded again opens the camera.
    assert give_consent(nurse, session_id).status_code == 303
    assert send_photo(nurse, session_id, photo_bytes).status_code == 201


def test_best_interests_covers_the_record(nurse: Client) -> None:
    session_id = open_session(nurse)
    response = give_consent(nurse, session_id, consent_method="best_interests")
    assert response.status_code == 303
    assert response.headers["location"] == f"/bedside/sessions/{session_id}"


# --- Photos ---------------------------------------------------------------------------------------


def test_a_photo_is_stored_under_the_sessions_patient_and_consent_once(
    nurse: Client, runtime: Runtime, ready: str, photo_bytes: bytes
) -> None:
    capture_id = str(uuid.uuid4())
    # The client cannot name a patient: a patient_id field is not read.
    first = send_photo(nurse, ready, photo_bytes, capture_id=capture_id, patient_id="PC100002")
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    assert body["capture_id"] == capture_id and body["created"] is True
    assert body["body_site_label"] == "Left forearm"
    retry = send_photo(nurse, ready, photo_bytes, capture_id=capture_id)
    assert retry.status_code == 200
    assert retry.json() == {**body, "created": False}
    with runtime.db.session() as session:
        (instance,) = session.scalars(select(Instance)).all()
        assert instance.patient.mrn == "PC100001"
        assert instance.sop_instance_uid == body["sop_instance_uid"]
        assert instance.study.study_instance_uid == body["study_instance_uid"]
        assert instance.series.series_key == f"session:{ready}"
        consent = session.get_one(ConsentRecord, instance.consent_id)
        assert (consent.clinical_record, consent.teaching, consent.publication) == (
            True,
            True,
            False,
        )
        assert consent.method == "verbal"


def test_an_unpaired_site_is_labelled_without_a_side(
    nurse: Client, ready: str, photo_bytes: bytes
) -> None:
    response = send_photo(nurse, ready, photo_bytes, body_site="54735007", laterality=None)
    assert response.status_code == 201, response.text
    assert response.json()["body_site_label"] == "Sacrum"


@pytest.mark.parametrize(
    ("fields", "photo", "status", "field"),
    [
        ({"body_site": None}, True, 422, "body_site"),
        ({"body_site": "123"}, True, 422, "body_site"),
        ({"laterality": None}, True, 422, "laterality"),
        ({"view": "sideways"}, True, 422, "view"),
        ({"capture_id": "not-a-uuid"}, True, 422, "capture_id"),
        ({"captured_at": "2099-01-01T00:00:00+00:00"}, True, 422, "captured_at"),
        ({"sensitive": "perhaps"}, True, 422, "sensitive"),
        ({}, False, 422, "file"),
    ],
    ids=[
        "no-site",
        "unknown-site",
        "paired-without-side",
        "bad-view",
        "bad-capture-id",
        "future",
        "bad-flag",
        "no-file",
    ],
)
def test_bad_photos_get_problem_json_and_store_nothing(
    nurse: Client,
    runtime: Runtime,
    ready: str,
    photo_bytes: bytes,
    fields: dict[str, str | None],
    photo: bool,
    status: int,
    field: str,
) -> None:
    response = send_photo(nurse, ready, photo_bytes if photo else None, **fields)
    body = assert_problem(response, status)
    assert field in body.get("errors", {}), body
    assert count(runtime, Instance) == 0


def test_a_file_that_is_not_a_photo_is_refused(nurse: Client, runtime: Runtime, ready: str) -> None:
    response = send_photo(nurse, ready, b"%PDF-1.4 not a photo")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert count(runtime, Instance) == 0


def test_consent_cannot_change_under_stored_photos(
    nurse: Client, ready: str, photo_bytes: bytes
) -> None:
    assert send_photo(nurse, ready, photo_bytes).status_code == 201
    assert give_consent(nurse, ready, consent_teaching="yes").status_code == 303  # the same
    changed = give_consent(nurse, ready, consent_publication="yes", consent_teaching="yes")
    assert changed.status_code == 409
    assert "end this session" in changed.text


# --- Whose session --------------------------------------------------------------------------------


def test_another_users_session_is_not_found(
    browser: SignIn, nurse: Client, ready: str, photo_bytes: bytes
) -> None:
    doctor = browser("clinician")
    base = f"/bedside/sessions/{ready}"
    for path in (base, f"{base}/consent", f"{base}/summary"):
        assert doctor.get(path).status_code == 404, path
    assert give_consent(doctor, ready).status_code == 404
    assert_problem(send_photo(doctor, ready, photo_bytes), 404)
    assert doctor.post(f"{base}/end", headers=csrf(doctor)).status_code == 404
    assert nurse.get(base).status_code == 200  # still the nurse's, still open


@pytest.mark.parametrize(
    "session_id", ["nope", "0b7e7a4c-3c1e-4d1f-9a51-6f4c2a9d8e11", "1' or '1'='1"]
)
def test_unknown_session_ids_are_not_found(nurse: Client, session_id: str) -> None:
    page = nurse.get(f"/bedside/sessions/{session_id}")
    assert page.status_code == 404
    assert "Scan the wristband to start again" in page.text


# --- Summary and the next patient -----------------------------------------------------------------


def test_summary_lists_what_was_stored_and_next_patient_ends_the_session(
    nurse: Client, runtime: Runtime, ready: str, photo_bytes: bytes
) -> None:
    empty = nurse.get(f"/bedside/sessions/{ready}/summary")
    assert "No photo was stored in this session yet" in empty.text
    for _ in range(2):
        assert send_photo(nurse, ready, photo_bytes).status_code == 201
    sacrum = send_photo(nurse, ready, photo_bytes, body_site="54735007", laterality=None)
    assert sacrum.status_code == 201
    page = nurse.get(f"/bedside/sessions/{ready}/summary")
    assert page.status_code == 200
    assert "3 photos stored for" in page.text
    assert 'Left forearm <span class="summary-site-count">(2)' in page.text
    assert 'Sacrum <span class="summary-site-count">(1)' in page.text
    with runtime.db.session() as session:
        study_uid = session.scalars(select(Instance)).first().study.study_instance_uid  # type: ignore[union-attr]
    assert study_uid in page.text
    assert "Review" not in page.text  # a photographer cannot review
    ended = nurse.post(
        f"/bedside/sessions/{ready}/end", headers=csrf(nurse), follow_redirects=False
    )
    assert ended.status_code == 303 and ended.headers["location"] == "/bedside"
    assert nurse.get(f"/bedside/sessions/{ready}").status_code == 404
    assert_problem(send_photo(nurse, ready, photo_bytes), 404)


def test_a_clinician_summary_links_to_the_review(browser: SignIn) -> None:
    doctor = browser("clinician")
    session_id = open_session(doctor)
    assert give_consent(doctor, session_id).status_code == 303
    page = doctor.get(f"/bedside/sessions/{session_id}/summary")
    assert 'href="/patients/PC100001?issuer=PCDEMO"' in page.text


# --- Idle lock ------------------------------------------------------------------------------------


def test_unlock_with_the_users_own_password(nurse: Client, accounts: dict[str, Any]) -> None:
    password = accounts["photographer"].password
    as_json = nurse.post("/bedside/unlock", json={"password": password}, headers=csrf(nurse))
    assert as_json.status_code == 204
    as_form = nurse.post("/bedside/unlock", data={"password": password}, headers=csrf(nurse))
    assert as_form.status_code == 204


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"json": {"password": "wrong-password-here"}}, 401),
        ({"json": {"password": "doctor-test-password"}}, 401),
        ({"data": {"password": "wrong-password-here"}}, 401),
        ({"json": {}}, 422),
        ({"json": {"password": 12345}}, 422),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 422),
        ({"data": {}}, 422),
    ],
    ids=["wrong", "someone-elses", "wrong-form", "missing", "not-text", "broken-json", "empty"],
)
def test_unlock_refuses_anything_else(
    nurse: Client, request_args: dict[str, Any], status: int
) -> None:
    headers = {**JSON, **csrf(nurse), **request_args.pop("headers", {})}
    response = nurse.post("/bedside/unlock", headers=headers, **request_args)
    assert_problem(response, status)


def test_wrong_unlocks_count_as_failed_sign_ins(
    nurse: Client, runtime: Runtime, accounts: dict[str, Any]
) -> None:
    headers = {**JSON, **csrf(nurse)}
    for _ in range(runtime.settings.login_max_failures):
        wrong = nurse.post("/bedside/unlock", json={"password": "not-it-at-all"}, headers=headers)
        assert wrong.status_code in (401, 429)
    right = {"password": accounts["photographer"].password}
    locked = nurse.post("/bedside/unlock", json=right, headers=headers)
    assert_problem(locked, 429)


def test_the_server_holds_the_idle_lock_until_the_password(
    nurse: Client, ready: str, runtime: Runtime, accounts: dict[str, Any]
) -> None:
    """A reload of a locked screen shows the lock, not the patient: the lock is the session's.
    Photos queued before the lock finish sending; nothing else opens until the password."""
    capture = f"/bedside/sessions/{ready}"
    headers = csrf(nurse)
    assert nurse.post("/bedside/lock", headers=headers).status_code == 204

    for path in (capture, "/patients/PC100001/capture", "/bedside"):
        reloaded = nurse.get(path)
        assert reloaded.status_code == 423, path
        assert "Screen locked" in reloaded.text and 'name="password"' in reloaded.text
        assert "Öberg" not in reloaded.text and "ÖBERG" not in reloaded.text
        assert "PC100001" not in reloaded.text.replace(f'value="{path}"', "")
    api = nurse.get("/api/v1/patients", params={"identifier": "PC100001"}, headers=JSON)
    assert_problem(api, 423)
    queued = send_photo(nurse, ready, corpus("photos", "gps", "DSCN0010.jpg").read_bytes())
    assert queued.status_code == 201, queued.text

    wrong = nurse.post(
        "/bedside/unlock",
        data={"password": "not-the-password", "next": capture},
        headers=headers,
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "not your password" in wrong.text
    assert nurse.get(capture).status_code == 423
    unlocked = nurse.post(
        "/bedside/unlock",
        data={"password": accounts["photographer"].password, "next": capture},
        headers=headers,
        follow_redirects=False,
    )
    assert (unlocked.status_code, unlocked.headers["location"]) == (303, capture)
    assert nurse.get(capture).status_code == 200
