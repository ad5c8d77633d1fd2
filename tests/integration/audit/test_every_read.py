"""Every read of patient data leaves a trace, and every refusal: one event per request, naming
the patient (and the objects) it covered, never one per thumbnail of a list.

The reads are every GET route that names a patient or an object in its address (from the
application's route table: a new page is covered the day it is added), the DICOMweb searches
and the patient searches. Each is asked as a clinician (admin pages as an admin) and must answer
(2xx) and add at least one event about the patient.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare.db.models import AuditRecord
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import a_pdf

Client = TestClient[Litestar]
MRN = "PC100001"
ANY = {"Accept": "*/*"}
SEARCHES = [
    "/dicomweb/studies?PatientName=*",
    "/dicomweb/studies?PatientID=PC100001",
    "/dicomweb/series?PatientID=PC100001",
    "/dicomweb/instances",
    "/api/v1/patients?identifier=PC100001",
    "/?mrn=PC100001",
    "/bedside?name=oberg&birth_date=1957-03-14",
]
"""Searches: no patient in the address, but every patient they return is recorded."""
NOT_READS = {
    "/patients/{mrn:str}/pacs-studies",
    "/patients/{mrn:str}/pacs-studies/{study:str}/thumbnail",
}
"""Only with a PACS as the archive (404 here): their list is one event, like the review's."""
QUERIES = {"/patients/{mrn:str}/compare": "?photo={sop}"}
"""What a route needs besides its path to answer."""


@dataclass(frozen=True)
class Photo:
    study: str
    series: str
    sop: str
    document: str = ""
    """A PDF of the same patient (the documents page's object)."""


@pytest.fixture
def photo(upload: Upload, client: Client, bearer: Callable[[str], dict[str, str]]) -> Photo:
    stored = upload(corpus("photos", "gps", "DSCN0010.jpg"), patient_id=MRN, sensitive="true")
    assert stored.status_code == 201, stored.text
    body = stored.json()
    pdf = client.post(
        "/api/v1/documents",
        data={"patient_id": MRN, "title": "Referral", "capture_id": str(uuid.uuid4())},
        files={"file": ("referral.pdf", a_pdf(), "application/pdf")},
        headers=bearer("clinician"),
    )
    assert pdf.status_code == 201, pdf.text
    return Photo(
        body["study_instance_uid"],
        body["series_instance_uid"],
        body["sop_instance_uid"],
        pdf.json()["sop_instance_uid"],
    )


def events_since(runtime: Runtime, seq: int) -> list[AuditRecord]:
    with runtime.db.session() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.seq > seq)))


def head(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return int(session.scalar(select(func.max(AuditRecord.seq))) or 0)


def reads(app: Litestar, photo: Photo) -> Iterator[tuple[str, str]]:
    """(route template, concrete path) of every GET naming a patient or object."""
    values = {
        "mrn": MRN,
        "study": photo.study,
        "series": photo.series,
        "instance": photo.sop,
        "sop": photo.sop,
        "frames": "1",
    }
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path in NOT_READS:
            continue
        names = re.findall(r"\{(\w+):\w+\}", route.path)
        if not names or not set(names) <= set(values):
            continue
        if any("GET" in handler.http_methods for handler in route.route_handlers):
            own = {**values, "sop": photo.document} if "/documents/" in route.path else values
            path = re.sub(r"\{(\w+):\w+\}", lambda m, own=own: own[m.group(1)], route.path)
            yield route.path, path + QUERIES.get(route.path, "").format(sop=photo.sop)


def about_the_patient(event: AuditRecord, photo: Photo) -> bool:
    listed = set(event.objects or [])
    return event.patient_mrn == MRN or bool(listed & {photo.study, photo.sop, f"{MRN}^^^PCDEMO"})


def test_every_read_of_patient_data_is_audited_once_per_request(
    app: Litestar, runtime: Runtime, bearer: Callable[[str], dict[str, str]], photo: Photo
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    doctor = bearer("clinician")
    glass = client.post(  # the photo is sensitive: its pages answer once the glass is broken
        f"/patients/{MRN}/break-glass",
        data={"reason": "checking every page is audited"},
        headers=doctor,
        follow_redirects=False,
    )
    assert glass.status_code in (200, 303), glass.text
    wrong, checked = [], 0
    paths = [*(path for _, path in reads(app, photo)), *SEARCHES]
    for path in paths:
        before = head(runtime)
        answer = client.get(path, headers={**doctor, **ANY}, follow_redirects=False)
        new = events_since(runtime, before)
        checked += 1
        if answer.status_code >= 400:
            wrong.append(f"{path}: {answer.status_code} (not a read)")
        elif not any(about_the_patient(event, photo) for event in new):
            wrong.append(f"{path}: {answer.status_code}, no event about {MRN}: {new!r}")
    assert checked > 20
    assert not wrong, "\n".join(wrong)


def test_a_lists_thumbnails_are_its_one_event_a_direct_one_is_its_own(
    app: Litestar, runtime: Runtime, bearer: Callable[[str], dict[str, str]], photo: Photo
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    doctor = {**bearer("clinician"), "Accept": "image/jpeg"}
    thumbnail = (
        f"/dicomweb/studies/{photo.study}/series/{photo.series}/instances/{photo.sop}/thumbnail"
    )
    before = head(runtime)
    assert client.get(thumbnail, headers=doctor).status_code == 200
    [direct] = events_since(runtime, before)
    assert (direct.action, direct.objects) == ("image.viewed", [photo.sop])
    assert direct.details == {"via": "wado-rs thumbnail"}

    listed = client.get(f"/patients/{MRN}", headers={**doctor, "Accept": "text/html"})
    assert listed.status_code == 200 and photo.sop in listed.text
    before = head(runtime)
    for _ in range(3):  # the page's own thumbnail, fetched (and fetched again) by the browser
        assert client.get(thumbnail, headers=doctor).status_code == 200
    assert events_since(runtime, before) == []


@pytest.mark.parametrize(
    ("role", "path_of", "objects"),
    [
        ("photographer", lambda p: f"/patients/{MRN}", False),
        ("photographer", lambda p: f"/dicomweb/studies/{p.study}/metadata", True),
        (
            "clinician",
            lambda p: f"/dicomweb/studies/{p.study}/series/{p.series}/instances/{p.sop}/frames/1",
            True,
        ),
    ],
    ids=["photographer-review", "photographer-dicomweb", "sealed-frames"],
)
def test_every_refusal_is_audited_with_what_it_concerned(
    app: Litestar,
    runtime: Runtime,
    bearer: Callable[[str], dict[str, str]],
    photo: Photo,
    role: str,
    path_of: Callable[[Photo], str],
    objects: bool,
) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    before = head(runtime)
    answer = client.get(path_of(photo), headers={**bearer(role), "Accept": "*/*"})
    assert answer.status_code == 403
    [refused] = [e for e in events_since(runtime, before) if e.action == "access.refused"]
    assert (refused.outcome, refused.patient_mrn, refused.role) == ("refused", MRN, role)
    assert refused.reason
    if objects:
        assert photo.sop in refused.objects or photo.study in refused.objects
