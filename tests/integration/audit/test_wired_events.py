"""Each audited action, done through real HTTP, leaves its event with the right user, patient,
objects and outcome; and the chain still holds afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from pointcare.audit import AuditAction
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.audit.support import chain_holds, events
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import HTML, OBERG, Capture, SignIn, sign_in
from tests.support import csrf
from tests.support.tools import corpus

Bearer = Callable[[str], dict[str, str]]


def test_sign_in_failed_sign_in_and_sign_out(
    app: Litestar, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    client = TestClient(app=app, raise_server_exceptions=False)
    wrong = client.post(
        "/login",
        data={"username": "doctor", "password": "not-the-password"},
        headers={**HTML, csrf.HEADER: csrf.fetch_token(client)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401
    sign_in(client, accounts["clinician"])
    out = client.post("/logout", headers={**HTML, csrf.HEADER: csrf.fetch_token(client, "/")})
    assert out.status_code in (200, 303)

    failed, login, logout = (
        events(runtime, AuditAction.LOGIN_FAILED),
        events(runtime, AuditAction.LOGIN),
        events(runtime, AuditAction.LOGOUT),
    )
    assert [(e.username, e.user_id, e.role, e.outcome) for e in failed] == [
        ("doctor", None, "anonymous", "failure")
    ]
    assert failed[0].client_address == "testclient"
    assert "password" not in str(failed[0].details)
    assert [(e.username, e.user_id, e.role, e.outcome) for e in login] == [
        ("doctor", accounts["clinician"].user_id, "clinician", "success")
    ]
    assert [(e.username, e.outcome) for e in logout] == [("doctor", "success")]
    assert chain_holds(runtime)


def test_a_patient_search_records_criteria_and_results_but_never_the_name(
    browser: SignIn, runtime: Runtime, client: TestClient[Litestar], bearer: Bearer
) -> None:
    doctor = browser("clinician")
    assert doctor.get("/", params={"name": "Öberg"}).status_code == 200
    assert doctor.get("/", params={"mrn": "PC100001"}).status_code == 200
    assert doctor.get("/", params={"birth_date": "not a date"}).status_code == 422
    api = client.get("/api/v1/patients", params={"identifier": "NOPE1"}, headers=bearer("admin"))
    assert api.status_code == 200 and api.json() == []

    searches = events(runtime, AuditAction.PATIENT_SEARCH)
    assert [(e.username, e.details["by"], e.details["results"]) for e in searches] == [
        ("doctor", "name", 1),
        ("doctor", "mrn", 1),
        ("admin", "mrn", 0),
    ]
    assert searches[0].objects == ["PC100001^^^PCDEMO"]
    assert searches[1].patient_mrn == "PC100001" and searches[1].patient_issuer == "PCDEMO"
    assert searches[2].details["via"] == "api"
    for event in searches:  # the trail never holds what was typed as a name
        assert "berg" not in repr((event.details, event.objects, event.reason)).lower()


def test_a_stored_photo_is_audited_in_its_transaction(
    upload: Upload, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    stored = upload(b"this is not an image")
    assert stored.status_code in (415, 422)
    assert events(runtime, AuditAction.PHOTO_STORED) == []  # refused: nothing stored, no event

    response = upload(corpus("photos", "gps", "DSCN0010.jpg"))
    assert response.status_code == 201, response.text
    retried = upload(
        corpus("photos", "gps", "DSCN0010.jpg"), capture_id=response.json()["capture_id"]
    )
    assert retried.status_code == 200
    [event] = events(runtime, AuditAction.PHOTO_STORED)  # a retry stores, and records, nothing
    assert event.user_id == accounts["photographer"].user_id
    assert (event.patient_mrn, event.patient_issuer) == ("PC100001", "PCDEMO")
    assert event.objects == [response.json()["sop_instance_uid"]]
    assert event.details["study_instance_uid"] == response.json()["study_instance_uid"]
    assert event.client_address == "testclient"


def test_opening_pages_and_viewing_images(
    browser: SignIn, capture: Capture, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    nurse = browser("photographer")
    assert nurse.get(f"{OBERG}/capture?issuer=PCDEMO").status_code == 200
    stored = capture(nurse)
    assert stored.status_code == 201, stored.text
    capture(nurse)
    doctor = browser("clinician")
    review = doctor.get(f"{OBERG}?issuer=PCDEMO")
    assert review.status_code == 200
    thumbnails = re.findall(r'<img src="(/dicomweb/[^"]+/thumbnail)"', review.text)
    assert len(thumbnails) == 2
    for url in thumbnails:
        assert doctor.get(url, headers={"Accept": "image/jpeg"}).status_code == 200
    sop = re.findall(r"/instances/([0-9.]+)/thumbnail", thumbnails[0])[0]
    photo = doctor.get(f"{OBERG}/photos/{sop}?issuer=PCDEMO")
    assert photo.status_code == 200
    rendered = re.search(r'src="(/dicomweb/[^"]+/rendered)"', photo.text)
    assert rendered
    assert doctor.get(rendered.group(1), headers={"Accept": "image/jpeg"}).status_code == 200

    opened = events(runtime, AuditAction.PATIENT_OPEN)
    assert [(e.username, e.details["page"], e.patient_mrn) for e in opened] == [
        ("nurse", "capture", "PC100001"),
        ("doctor", "review", "PC100001"),
    ]
    [listed] = events(runtime, AuditAction.IMAGE_LIST_VIEWED)  # two thumbnails, one event
    assert listed.username == "doctor" and len(listed.objects) == 2 and sop in listed.objects
    viewed = events(runtime, AuditAction.IMAGE_VIEWED)
    assert [(e.username, e.details["via"], e.objects) for e in viewed] == [
        ("doctor", "photo page", [sop]),
        ("doctor", "wado-rs rendered", [sop]),
    ]
    assert all(e.patient_mrn == "PC100001" for e in viewed)
    assert len(events(runtime, AuditAction.PHOTO_STORED)) == 2
    assert chain_holds(runtime)


def test_a_refused_page_is_not_an_opened_record(browser: SignIn, runtime: Runtime) -> None:
    nurse = browser("photographer")
    assert nurse.get(f"{OBERG}?issuer=PCDEMO").status_code == 403
    assert nurse.get("/patients/NOPE1/capture").status_code == 404
    assert events(runtime, AuditAction.PATIENT_OPEN) == []
