"""The review page with a PACS as the archive (a real Orthanc): each photo's delivery state, and
"In the PACS", every study the PACS holds for the patient (any modality), loaded by htmx.

Orthanc is the session's (see conftest); the patient is this module's own (a random MRN), so the
studies listed are this test's alone.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from sqlalchemy import select, update

from pointcare.app import create_app
from pointcare.archive.protocol import Outcome, OutgoingInstance
from pointcare.db.models import Delivery, Patient
from pointcare.identity.names import name_key
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.integration.conftest import Upload
from tests.integration.delivery.conftest import delivering_to, small_photo
from tests.support.consent import CLINICAL_ONLY
from tests.support.orthanc import Orthanc

Bearer = Callable[[str], dict[str, str]]
ISSUER = "PCTEST"
VIEWER = "https://viewer.example.org/viewer?StudyInstanceUIDs={study}"
HTML = {"Accept": "text/html"}
CALM = "The PACS did not answer; photos taken here are listed above"


@pytest.fixture
def mrn() -> str:
    return f"RVW{secrets.token_hex(5).upper()}"


@pytest.fixture
def settings(settings: Settings, orthanc: Orthanc) -> Settings:
    return delivering_to(settings, orthanc, dicomweb_timeout_seconds=2.0, viewer_url=VIEWER)


@pytest.fixture(autouse=True)
def patient(runtime: Runtime, mrn: str) -> None:
    with runtime.db.write() as session:
        session.add(
            Patient(
                mrn=mrn,
                issuer=ISSUER,
                family_name="Review",
                given_name="Test",
                name_key=name_key("Review", "Test"),
                birth_date=date(1970, 3, 4),
                sex="M",
            )
        )


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)


def as_role(bearer: Bearer, role: str) -> dict[str, str]:
    return {**HTML, **bearer(role)}


def page_path(mrn: str, suffix: str = "") -> str:
    return f"/patients/{mrn}{suffix}?issuer={ISSUER}"


def ct_object(mrn: str) -> tuple[str, str, bytes]:
    """A tiny CT image of the patient made by another system: (study UID, SOP UID, Part 10)."""
    study, sop = generate_uid(), generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, generate_uid()
    ds.PatientID, ds.IssuerOfPatientID, ds.PatientName = mrn, ISSUER, "Review^Test"
    ds.Modality, ds.StudyDate, ds.StudyDescription = "CT", "20250102", "CT thorax & abdomen"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes(8 * 8 * 2)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return study, sop, out.getvalue()


@pytest.fixture
def delivered(
    runtime: Runtime, client: TestClient[Litestar], upload: Upload, mrn: str
) -> list[str]:
    """Two photos delivered to Orthanc, a third parked, and a CT study stored there directly.
    Returns [photo study UID, CT study UID, parked SOP UID]."""
    answers = []
    for number in range(2):
        response = upload(small_photo(number), patient_id=mrn, issuer=ISSUER)
        assert response.status_code == 201, response.text
        answers.append(response.json())
    forwarder = runtime.new_forwarder()
    assert forwarder is not None
    assert forwarder.run_once() == 2
    study, sop, part10 = ct_object(mrn)
    report = runtime.archive.store([OutgoingInstance(sop, part10)])
    assert report.results[sop].outcome is Outcome.STORED, report
    parked = upload(small_photo(2), patient_id=mrn, issuer=ISSUER)
    assert parked.status_code == 201, parked.text
    parked_sop = parked.json()["sop_instance_uid"]
    with runtime.db.write() as session:
        newest = session.scalar(select(Delivery.id).order_by(Delivery.id.desc()).limit(1))
        session.execute(update(Delivery).where(Delivery.id == newest).values(state="parked"))
    return [answers[0]["study_instance_uid"], study, parked_sop]


def test_the_review_page_shows_each_photo_delivery_state_and_asks_for_the_pacs_lazily(
    client: TestClient[Litestar], bearer: Bearer, upload: Upload, mrn: str
) -> None:
    response = upload(small_photo(7), patient_id=mrn, issuer=ISSUER)
    assert response.status_code == 201, response.text
    html = client.get(page_path(mrn), headers=as_role(bearer, "clinician")).text
    assert "Sending to PACS" in html
    assert f'hx-get="{page_path(mrn, "/pacs-studies")}"' in html
    assert 'hx-trigger="load"' in html
    assert "In the PACS" in html
    photo = client.get(
        page_path(mrn, f"/photos/{response.json()['sop_instance_uid']}"),
        headers=as_role(bearer, "clinician"),
    )
    assert "Sending to PACS" in photo.text


def test_the_pacs_section_lists_every_study_with_a_viewer_link_and_thumbnails(
    client: TestClient[Litestar], bearer: Bearer, mrn: str, delivered: list[str]
) -> None:
    photo_study, ct_study, parked_sop = delivered
    review = client.get(page_path(mrn), headers=as_role(bearer, "clinician")).text
    assert review.count("In PACS") == 2
    assert "Not delivered — waiting for an admin" in review
    parked = client.get(page_path(mrn, f"/photos/{parked_sop}"), headers=as_role(bearer, "admin"))
    assert "Not delivered — waiting for an admin" in parked.text

    fragment = client.get(page_path(mrn, "/pacs-studies"), headers=as_role(bearer, "clinician"))
    assert fragment.status_code == 200, fragment.text
    html = fragment.text
    assert "<html" not in html
    studies = re.findall(r'<li class="pacs-study">(.*?)</li>', html, re.S)
    assert len(studies) == 2, html
    ct = next(block for block in studies if quote(ct_study, safe="") in block)
    assert "CT thorax &amp; abdomen" in ct
    assert "02 Jan 2025" in ct
    assert "<dd>CT</dd>" in ct
    assert "<dd>1</dd>" in ct
    viewer = VIEWER.replace("{study}", quote(ct_study, safe=""))
    assert f'href="{viewer}"' in ct
    assert "pacs-thumb" not in ct  # no thumbnail for a CT study

    ours = next(block for block in studies if quote(photo_study, safe="") in block)
    assert "<dd>XC</dd>" in ours
    assert "<dd>2</dd>" in ours
    thumbnail = re.search(r'<img class="pacs-thumb" src="([^"]+)"', ours)
    assert thumbnail, ours
    image = client.get(thumbnail.group(1).replace("&amp;", "&"), headers=bearer("clinician"))
    assert image.status_code == 200, image.text
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    assert "no-store" in image.headers["cache-control"]
    other = client.get(
        page_path(mrn, f"/pacs-studies/{generate_uid()}/thumbnail"), headers=bearer("clinician")
    )
    assert other.status_code == 404


def test_photographers_may_not_see_the_pacs_section(
    client: TestClient[Litestar], bearer: Bearer, mrn: str
) -> None:
    headers = as_role(bearer, "photographer")
    assert client.get(page_path(mrn, "/pacs-studies"), headers=headers).status_code == 403
    thumbnail = page_path(mrn, f"/pacs-studies/{generate_uid()}/thumbnail")
    assert client.get(thumbnail, headers=headers).status_code == 403


def test_a_pacs_that_does_not_answer_gives_a_calm_message(
    runtime: Runtime, bearer: Bearer, mrn: str
) -> None:
    down = replace(runtime.settings, dicomweb_url="http://127.0.0.1:9/dicom-web")
    other = build_runtime(down)
    try:
        app = create_app(down, runtime=other, forward_to_pacs=False)
        client = TestClient(app=app, raise_server_exceptions=False)
        response = client.get(page_path(mrn, "/pacs-studies"), headers=as_role(bearer, "clinician"))
        assert response.status_code == 200, response.text
        assert CALM in response.text
    finally:
        other.close()


def test_with_the_builtin_archive_there_is_no_pacs_section(
    runtime: Runtime, bearer: Bearer, upload: Upload, mrn: str
) -> None:
    builtin = replace(runtime.settings, archive="builtin", dicomweb_url="")
    other = build_runtime(builtin)
    try:
        app = create_app(builtin, runtime=other)
        client = TestClient(app=app, raise_server_exceptions=False)
        headers = as_role(bearer, "clinician")
        photo = client.post(
            "/api/v1/photos",
            data={
                "patient_id": mrn,
                "issuer": ISSUER,
                "body_site": "14975008",
                "laterality": "L",
                "captured_at": "2026-05-04T10:15:00+02:00",
                **CLINICAL_ONLY,
            },
            files={"file": ("p.jpg", small_photo(9), "image/jpeg")},
            headers=bearer("photographer"),
        )
        assert photo.status_code == 201, photo.text
        html = client.get(page_path(mrn), headers=headers).text
        assert "Photos <span" in html
        assert "In the PACS" not in html
        assert "pacs-studies" not in html
        assert "PACS" not in html
        assert client.get(page_path(mrn, "/pacs-studies"), headers=headers).status_code == 404
    finally:
        other.close()
