"""One patient's images cannot be fetched with a session bound to another patient (EHR launch).

The session is opened as a launch opens it (``open_session`` with the launch's patient); the
launch token itself is tested with the launch. DICOMweb is included.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.auth.sessions import COOKIE_NAME, open_session
from pointcare.db.models import Patient, User
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.pages.conftest import HTML
from tests.integration.security.conftest import StoredPhoto, StorePhoto
from tests.support import csrf

JPEG = {"Accept": "image/jpeg"}
DICOM = {"Accept": 'multipart/related; type="application/dicom"'}
JSON = {"Accept": "application/dicom+json"}


def launch_session(
    app: Litestar, runtime: Runtime, account: Account, mrn: str
) -> TestClient[Litestar]:
    with runtime.db.write() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        user = session.get(User, account.user_id)
        assert user is not None
        token = open_session(session, user, runtime.session_policy, launch_patient_id=patient.id)
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set(COOKIE_NAME, token)
    csrf.arm(client, "/")
    return client


def test_a_launch_session_fetches_its_patient_only(
    app: Litestar,
    runtime: Runtime,
    accounts: dict[str, Account],
    store_photo: StorePhoto,
) -> None:
    own = store_photo()
    other = store_photo(patient="/patients/PC100002")
    doctor = launch_session(app, runtime, accounts["clinician"], "PC100001")

    def answers(photo: StoredPhoto) -> dict[str, int]:
        return {
            "rendered": doctor.get(photo.dicomweb("/rendered"), headers=JPEG).status_code,
            "thumbnail": doctor.get(photo.dicomweb("/thumbnail"), headers=JPEG).status_code,
            "instance": doctor.get(photo.dicomweb(), headers=DICOM).status_code,
            "metadata": doctor.get(photo.dicomweb("/metadata"), headers=JSON).status_code,
            "study": doctor.get(f"/dicomweb/studies/{photo.study}", headers=DICOM).status_code,
        }

    assert set(answers(own).values()) == {200}
    assert set(answers(other).values()) == {403}
    review = doctor.get("/patients/PC100002", params={"issuer": "PCDEMO"}, headers=HTML)
    photo = doctor.get(
        f"/patients/PC100002/photos/{other.sop}", params={"issuer": "PCDEMO"}, headers=HTML
    )
    assert review.status_code == photo.status_code == 403
    assert "Ångström".upper() not in review.text.upper()


def test_a_launch_session_finds_no_other_patient_in_dicomweb_searches(
    app: Litestar, runtime: Runtime, accounts: dict[str, Account], store_photo: StorePhoto
) -> None:
    other = store_photo(patient="/patients/PC100002")
    doctor = launch_session(app, runtime, accounts["clinician"], "PC100001")

    for path in ("/dicomweb/studies", "/dicomweb/series", "/dicomweb/instances"):
        found = doctor.get(path, params={"PatientID": "PC100002"}, headers=JSON)
        assert found.status_code in (200, 204, 403), path
        assert other.study not in found.text, path
