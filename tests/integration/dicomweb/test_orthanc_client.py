"""Orthanc as a DICOMweb client of Pointcare, as another hospital's archive would be: it searches
Pointcare (QIDO-RS through its ``/dicom-web/servers/{name}/qido``) and pulls studies into its
own storage (WADO-RS through ``/retrieve``), with a bearer token in its server entry: photos,
documents, and the rejection note that a correction adds (IHE IOCM), so that a photo rejected
here is known as rejected there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from typing import Any

import httpx
import pydicom
import pytest
from pydicom.uid import (
    EncapsulatedPDFStorage,
    KeyObjectSelectionDocumentStorage,
    VLPhotographicImageStorage,
)

from pointcare.cli import DEMO_USERS
from tests.integration.dicomweb.conftest import FOREARM
from tests.integration.dicomweb.live import MRN, Live, live_archive
from tests.integration.dicomweb.test_stow import device_photo
from tests.support import csrf
from tests.support.consent import CLINICAL_ONLY
from tests.support.orthanc import Orthanc
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import a_pdf

SERVER = "pointcare"
PHOTO = ("photos", "gps", "DSCN0027.jpg")
DOCTOR_PASSWORD = next(password for user, _, _, password in DEMO_USERS if user == "doctor")


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[Live]:
    with live_archive(module_database_url) as found:
        yield found


@pytest.fixture(scope="module")
def orthanc(live: Live) -> Iterator[httpx.Client]:
    """Orthanc with Pointcare declared as a DICOMweb server (a clinician's bearer token)."""
    peer = Orthanc.create().start()
    try:
        with httpx.Client(
            base_url=peer.url, auth=(peer.user, peer.password), trust_env=False, timeout=120
        ) as client:
            declared = client.put(
                f"/dicom-web/servers/{SERVER}",
                json={
                    "Url": f"{live.server.url}/dicomweb",
                    "HttpHeaders": {"Authorization": f"Bearer {live.doctor}"},
                },
            )
            assert declared.status_code == 200, declared.text
            yield client
    finally:
        peer.remove()


def qido(orthanc: httpx.Client, uri: str, **arguments: str) -> list[dict[str, Any]]:
    response = orthanc.post(
        f"/dicom-web/servers/{SERVER}/qido", json={"Uri": uri, "Arguments": arguments}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_orthanc_searches_pointcare(live: Live, orthanc: httpx.Client) -> None:
    # Orthanc hands back each attribute with a single value, as text.
    [study] = qido(orthanc, "/studies", PatientID=MRN)
    assert study["0020000D"]["Value"] == live.study
    assert study["00100010"]["Value"] == "Ångström^Zoë"
    assert study["00081190"]["Value"] == f"{live.server.url}/dicomweb/studies/{live.study}"
    instances = qido(orthanc, f"/studies/{live.study}/instances")
    assert sorted(item["00080018"]["Value"] for item in instances) == sorted(live.sops)
    # Not asked: a search that matches nothing. Pointcare answers 204 as PS3.18 says, and the
    # DICOMweb plugin 1.7 of Orthanc 1.10 takes an empty body for a bad file (docs/conformance.md).


def test_orthanc_pulls_a_study_with_every_pixel(live: Live, orthanc: httpx.Client) -> None:
    pulled = orthanc.post(
        f"/dicom-web/servers/{SERVER}/retrieve",
        json={"Resources": [{"Study": live.study}], "Asynchronous": False},
    )
    assert pulled.status_code == 200, pulled.text
    found = orthanc.post(
        "/tools/find",
        json={"Level": "Instance", "Query": {"StudyInstanceUID": live.study}, "Expand": True},
    )
    held = {item["MainDicomTags"]["SOPInstanceUID"]: item["ID"] for item in found.json()}
    assert sorted(held) == sorted(live.sops)
    for sop, orthanc_id in held.items():
        copy = pydicom.dcmread(BytesIO(orthanc.get(f"/instances/{orthanc_id}/file").content))
        original = pydicom.dcmread(BytesIO(live.archived(sop)))
        assert copy.PatientID == MRN
        # Orthanc asks for the stored syntax (transfer-syntax=*): the same JPEG, byte for byte.
        assert copy.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert copy.PixelData == original.PixelData


def held(orthanc: httpx.Client, study: str) -> dict[str, str]:
    """SOP Instance UID -> SOP Class UID of what Orthanc holds of ``study``."""
    found = orthanc.post(
        "/tools/find",
        json={"Level": "Instance", "Query": {"StudyInstanceUID": study}, "Expand": True},
    )
    result: dict[str, str] = {}
    for item in found.json():
        tags = orthanc.get(f"/instances/{item['ID']}/simplified-tags").json()
        result[tags["SOPInstanceUID"]] = tags["SOPClassUID"]
    return result


def retrieve(orthanc: httpx.Client, study: str) -> None:
    pulled = orthanc.post(
        f"/dicom-web/servers/{SERVER}/retrieve",
        json={"Resources": [{"Study": study}], "Asynchronous": False},
    )
    assert pulled.status_code == 200, pulled.text


def test_orthanc_pulls_documents_and_the_rejection_note_of_a_correction(
    live: Live, orthanc: httpx.Client
) -> None:
    bearer = {"Authorization": f"Bearer {live.doctor}"}
    with httpx.Client(base_url=live.server.url, trust_env=False, timeout=60) as http:
        document = http.post(
            "/api/v1/documents",
            data={"patient_id": MRN, "title": "Referral letter", "capture_id": str(uuid.uuid4())},
            files={"file": ("referral.pdf", a_pdf("Referral letter"), "application/pdf")},
            headers=bearer,
        )
        assert document.status_code == 201, document.text
        study = document.json()["study_instance_uid"]
        photo = http.post(
            "/api/v1/photos",
            data={
                "patient_id": MRN,
                "body_site": FOREARM,
                "laterality": "L",
                "capture_id": str(uuid.uuid4()),
                "captured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "allow_duplicate": "true",
                **CLINICAL_ONLY,
            },
            files={
                "file": (
                    "p.jpg",
                    corpus("photos", "gps", "DSCN0027.jpg").read_bytes(),
                    "image/jpeg",
                )
            },
            headers=bearer,
        )
        assert photo.status_code == 201, photo.text
        assert photo.json()["study_instance_uid"] == study, "the visit's study holds both"
        rejected = photo.json()["sop_instance_uid"]
    retrieve(orthanc, study)
    first = held(orthanc, study)
    assert first[document.json()["sop_instance_uid"]] == EncapsulatedPDFStorage
    assert first[rejected] == VLPhotographicImageStorage

    # A clinician rejects the photo (poor quality); the next pull brings the note.
    with httpx.Client(base_url=live.server.url, trust_env=False, timeout=60) as browser:
        signed_in = browser.post(
            "/login",
            data={"username": "doctor", "password": DOCTOR_PASSWORD},
            headers={"Accept": "text/html", csrf.HEADER: csrf.fetch_token(browser)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        csrf.arm(browser, "/")
        page = f"/patients/{MRN}/photos/{rejected}/correct?issuer=PCDEMO"
        token = browser.get(page).text.split('name="token" value="')[1].split('"')[0]
        done = browser.post(
            page, data={"token": token, "kind": "quality", "reason": "Blurred: retaken"}
        )
        assert done.status_code == 200, done.text
    retrieve(orthanc, study)
    second = held(orthanc, study)
    [note] = [uid for uid, kind in second.items() if kind == KeyObjectSelectionDocumentStorage]
    assert set(second) == set(first) | {note}
    [orthanc_id] = orthanc.post(
        "/tools/find", json={"Level": "Instance", "Query": {"SOPInstanceUID": note}}
    ).json()
    kos = pydicom.dcmread(BytesIO(orthanc.get(f"/instances/{orthanc_id}/file").content))
    assert kos.ConceptNameCodeSequence[0].CodeValue == "113001"  # Rejected for Quality Reasons
    referenced = [
        item.ReferencedSOPInstanceUID
        for series in kos.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    ]
    assert referenced == [rejected]


def test_orthanc_stores_into_pointcare_by_stow_rs(live: Live, orthanc: httpx.Client) -> None:
    """Orthanc as a sender (IHE WIC capture side): its STOW-RS to Pointcare, with the consent
    answered in the headers of its server entry."""
    consent = {f"Pointcare-{key.replace('_', '-')}": value for key, value in CLINICAL_ONLY.items()}
    declared = orthanc.put(
        f"/dicom-web/servers/{SERVER}-stow",
        json={
            "Url": f"{live.server.url}/dicomweb",
            "HttpHeaders": {"Authorization": f"Bearer {live.nurse}", **consent},
        },
    )
    assert declared.status_code == 200, declared.text
    sent = device_photo()
    uploaded = orthanc.post("/instances", content=sent)
    assert uploaded.status_code == 200, uploaded.text
    stow = orthanc.post(
        f"/dicom-web/servers/{SERVER}-stow/stow",
        json={"Resources": [uploaded.json()["ID"]], "Synchronous": True},
    )
    assert stow.status_code == 200, stow.text
    sop = pydicom.dcmread(BytesIO(sent)).SOPInstanceUID
    with httpx.Client(base_url=live.server.url, trust_env=False, timeout=60) as http:
        found = http.get(
            "/dicomweb/instances",
            params={"SOPInstanceUID": sop},
            headers={"Authorization": f"Bearer {live.doctor}"},
        )
        assert found.status_code == 200, found.text
        [item] = found.json()
        kept = http.get(
            item["00081190"]["Value"][0],
            headers={
                "Authorization": f"Bearer {live.doctor}",
                "Accept": "application/dicom; transfer-syntax=*",
            },
        )
    assert (
        pydicom.dcmread(BytesIO(kept.content)).PixelData == pydicom.dcmread(BytesIO(sent)).PixelData
    )
