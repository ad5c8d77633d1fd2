"""GET /launch over HTTP, on every database: landing, bound session, refusals, replay, audit."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.db.models import AuditRecord, User, UserSession
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.conftest import Upload
from tests.support import csrf
from tests.support.launch import claims, sign
from tests.support.tools import corpus

Client = TestClient[Litestar]
HTML = {"Accept": "text/html"}


def launch(client: Client, token: str) -> Any:
    return client.get("/launch", params={"token": token}, headers=HTML, follow_redirects=False)


def sessions(runtime: Runtime) -> list[UserSession]:
    with runtime.db.session() as session:
        return list(session.scalars(select(UserSession).order_by(UserSession.id)))


def audit_actions(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.outcome, AuditRecord.reason).order_by(
                AuditRecord.seq
            )
        )
        return [(a, o, r) for a, o, r in rows if a.startswith("launch")]


def test_a_nurse_lands_on_the_bedside_confirmation_signed_in(
    client: Client, runtime: Runtime, demo_patients: int
) -> None:
    answer = launch(client, sign(claims(view="capture")))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/bedside/confirm?mrn=PC100001&issuer=PCDEMO"
    assert answer.headers["cache-control"] == "no-store"
    page = client.get(answer.headers["location"], headers=HTML)
    assert page.status_code == 200
    assert "ÖBERG" in page.text or "Öberg" in page.text  # the confirm card, pre-filled
    [record] = sessions(runtime)
    assert record.launch_encounter == "V24-000101"
    with runtime.db.session() as session:
        user = session.get_one(User, record.user_id)
        assert (user.external_issuer, user.external_subject) == (
            "https://ehr-hs.test.example",
            "u-1234",
        )
        assert user.password_hash is None
        assert user.role == "photographer"
        bound = record.launch_patient_id
        assert bound is not None
    assert audit_actions(runtime) == [("launch", "success", None)]


def test_a_clinician_lands_on_the_review_page(client: Client, demo_patients: int) -> None:
    token = sign(claims(role="physician", view="review", patient="PC100003"))
    answer = launch(client, token)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/patients/PC100003?issuer=PCDEMO"
    assert client.get(answer.headers["location"], headers=HTML).status_code == 200


def test_a_photographer_asking_for_review_lands_on_capture(
    client: Client, demo_patients: int
) -> None:
    answer = launch(client, sign(claims(role="nurse", view="review")))
    assert answer.headers["location"].startswith("/bedside/confirm?")


def test_the_bound_session_opens_other_patients_only_after_a_search(
    client: Client, demo_patients: int
) -> None:
    launch(client, sign(claims(role="physician")))
    assert client.get("/patients/PC100001?issuer=PCDEMO", headers=HTML).status_code == 200
    other = client.get("/patients/PC100002?issuer=PCDEMO", headers=HTML)
    assert other.status_code == 403
    assert "opened from the EHR" in other.text
    assert client.get("/bedside/confirm?mrn=PC100002", headers=HTML).status_code == 403
    # The explicit search: found, and from then on openable.
    assert client.get("/", params={"mrn": "PC100002"}, headers=HTML).status_code == 200
    assert client.get("/patients/PC100002?issuer=PCDEMO", headers=HTML).status_code == 200
    # Still not a third patient nobody searched for.
    assert client.get("/patients/PC100003?issuer=PCDEMO", headers=HTML).status_code == 403


def test_a_bad_token_gets_a_readable_page_without_the_token(
    client: Client, runtime: Runtime, demo_patients: int
) -> None:
    forged = sign(claims(), "not-the-shared-secret-but-32-bytes-long")
    answer = launch(client, forged)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "signature is not valid" in answer.text
    for part in forged.split("."):
        assert part not in answer.text
    assert "Traceback" not in answer.text
    assert sessions(runtime) == []
    assert "pointcare_session" not in answer.cookies
    assert audit_actions(runtime) == [("launch.refused", "failure", "signature")]
    # And the forged token gives no access afterwards.
    assert client.get("/patients/PC100001", headers=HTML, follow_redirects=False).status_code == 303


def test_a_replay_is_refused(client: Client, runtime: Runtime, demo_patients: int) -> None:
    token = sign(claims())
    assert launch(client, token).status_code == 303
    again = TestClient(app=client.app, raise_server_exceptions=False)
    with again:
        answer = launch(again, token)
    assert answer.status_code == 403
    assert "already used" in answer.text
    assert len(sessions(runtime)) == 1
    assert audit_actions(runtime)[-1] == ("launch.refused", "refused", "replay")


def test_an_unknown_patient_is_404_and_leaves_nothing(
    client: Client, runtime: Runtime, demo_patients: int
) -> None:
    answer = launch(client, sign(claims(patient="NOPE999")))
    assert answer.status_code == 404
    assert "NOPE999" in answer.text
    assert sessions(runtime) == []
    with runtime.db.session() as session:
        assert session.scalar(select(User).where(User.external_subject.is_not(None))) is None


def test_no_token_is_400(client: Client) -> None:
    answer = client.get("/launch", headers=HTML)
    assert answer.status_code == 400
    assert "no launch token" in answer.text


def test_a_launch_ends_the_browsers_previous_session(
    client: Client, runtime: Runtime, demo_patients: int
) -> None:
    launch(client, sign(claims()))
    launch(client, sign(claims(patient="PC100003")))
    first, second = sessions(runtime)
    assert first.revoked_at is not None
    assert second.revoked_at is None
    assert first.token_hash != second.token_hash


def test_an_ehr_user_named_like_a_local_account_does_not_become_it(
    client: Client, runtime: Runtime, accounts: dict[str, Account], demo_patients: int
) -> None:
    launch(client, sign(claims(sub="admin", role="physician")))
    [record] = sessions(runtime)
    assert record.user_id != accounts["admin"].user_id
    with runtime.db.session() as session:
        user = session.get_one(User, record.user_id)
        assert user.role == "clinician"
        assert user.username != "admin"
    assert client.get("/admin/deliveries", headers=HTML).status_code == 403


def test_name_and_role_follow_the_ehr(client: Client, runtime: Runtime, demo_patients: int) -> None:
    launch(client, sign(claims(role="nurse", name="Nora N")))
    launch(client, sign(claims(role="physician", name="Nora Nightingale")))
    with runtime.db.session() as session:
        [user] = session.scalars(select(User).where(User.external_subject == "u-1234"))
        assert (user.display_name, user.role) == ("Nora Nightingale", "clinician")


def test_a_bound_session_cannot_open_a_bedside_session_for_another_patient(
    client: Client, demo_patients: int
) -> None:
    # The MRN of a bedside session comes in the form body: the binding is checked there too.
    launch(client, sign(claims()))
    csrf.arm(client, "/bedside")
    other = client.post(
        "/bedside/sessions",
        data={"mrn": "PC100002", "issuer": "PCDEMO", "confirmation": "x"},
        headers=HTML,
        follow_redirects=False,
    )
    assert other.status_code == 403
    assert "opened from the EHR" in other.text


def test_scanning_another_patients_wristband_lets_the_bound_session_open_them(
    client: Client, demo_patients: int
) -> None:
    launch(client, sign(claims()))
    assert client.get("/bedside/confirm?mrn=PC100002", headers=HTML).status_code == 403
    csrf.arm(client, "/bedside")
    scan = client.post("/api/v1/wristbands/parse", json={"format": "Code128", "text": "PC100002"})
    assert scan.status_code == 200, scan.text
    assert scan.json()["patient"]["mrn"] == "PC100002"
    assert client.get("/bedside/confirm?mrn=PC100002", headers=HTML).status_code == 200


def test_a_bound_session_searches_dicomweb_only_for_its_patients(
    client: Client, upload: Upload, demo_patients: int
) -> None:
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    mine = upload(photo, patient_id="PC100001").json()["sop_instance_uid"]
    theirs = upload(photo, patient_id="PC100002").json()["sop_instance_uid"]
    client.cookies.clear()
    launch(client, sign(claims(role="physician")))
    found = client.get("/dicomweb/instances", headers={"Accept": "application/dicom+json"})
    assert found.status_code == 200
    assert mine in found.text and theirs not in found.text
    by_id = client.get(
        "/dicomweb/studies?PatientID=PC100002", headers={"Accept": "application/dicom+json"}
    )
    assert by_id.status_code == 204 and by_id.content == b""  # no match (the conformance statement)
