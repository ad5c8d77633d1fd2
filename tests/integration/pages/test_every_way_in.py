"""Every way into the archive keeps every promise.

The same guarantees, checked over each way an object is stored: the API, the capture page, the
bedside, desk upload (the API from a signed-in page), a correction's corrected copy and its
rejection note, documents through the API and from the desk, a wound measurement's report, and
photos and documents another capture device stores by STOW-RS. Each stored object is:

- filed for the patient the user confirmed;
- stored under an explicit consent record when it is an image (none is ever assumed);
- audited by an event that names what was stored;
- queued once for the PACS (the archive here is a PACS that is never reached);
- visible over QIDO-RS and WADO-RS, dciodvfy clean;
- stored once: its retry (the same capture_id, or the same object by STOW-RS) stores nothing new;
- hidden over DICOMweb once a correction rejected it.

A photo is filed under the wound or lesion chosen with it on every way in that takes photos, and
none of them stores a photo under another patient's finding or a closed one. Each of them records
the face of the site it was sent with (the back of the forearm) as an Anatomic Region Modifier,
which a correction keeps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from io import BytesIO
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import dcmread
from sqlalchemy import func, select

from pointcare.app import create_app
from pointcare.db.models import AuditRecord, Delivery, Instance
from pointcare.domain.patients import Sex
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.conftest import Account
from tests.integration.dicomweb.test_stow import device_pdf, device_photo
from tests.integration.pages.conftest import HTML, sign_in
from tests.support import csrf
from tests.support.consent import CLINICAL_ONLY
from tests.support.dicom_checks import LOCAL_SCHEME_WARNING, VIEW_WARNINGS, assert_valid_dicom
from tests.support.tools import corpus
from tests.support.wound_scenes import marked_scene, scene_jpeg
from tests.unit.dicom.test_pdf import a_pdf

Client = TestClient[Litestar]
MRN, ISSUER = "PC100003", "PCDEMO"
STORED_ACTIONS = {
    "photo": "photo.stored",
    "document": "document.stored",
    "rejection_note": "rejection_note.stored",
    "measurement_report": "measurement_report.stored",
}
OBJECT_WARNINGS = {"photo": VIEW_WARNINGS, "measurement_report": frozenset({LOCAL_SCHEME_WARNING})}
"""What dciodvfy says of a valid object of each kind (the local coding scheme's codes)."""


@dataclass
class Site:
    runtime: Runtime
    api: Client
    bearer: dict[str, str]
    browser: Callable[[str], Client]
    finding: str = ""
    """The id of the finding photos are filed under as they are sent; empty: none."""

    @property
    def tags(self) -> dict[str, str]:
        return {**TAGS, "finding": self.finding} if self.finding else dict(TAGS)


@pytest.fixture
def site(
    settings: Settings,
    accounts: dict[str, Account],
    demo_patients: int,
    bearer: Callable[[str], dict[str, str]],
) -> Iterator[Site]:
    """Pointcare whose archive is a PACS (never reached here: the outbox just fills)."""
    pacs = replace(settings, archive="dicomweb", dicomweb_url="http://127.0.0.1:9/dicom-web")
    runtime = build_runtime(pacs)
    app = create_app(pacs, runtime=runtime, forward_to_pacs=False)

    def browser(role: str) -> Client:
        client = TestClient(app=app, raise_server_exceptions=False)
        client.headers.update(HTML)
        sign_in(client, accounts[role])
        csrf.arm(client, "/")
        return client

    api = TestClient(app=app, raise_server_exceptions=False)
    yield Site(runtime, api, bearer("clinician"), browser)
    runtime.close()


def a_photo() -> bytes:
    """A different picture every time (a new comment segment): the same one is "already stored"."""
    data = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    comment = f"{uuid.uuid4()}".encode()
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


TAGS = {"body_site": "14975008", "laterality": "R", "aspect": "posterior", "view": "close-up"}
POSTERIOR = ("255551008", "SCT", "Posterior")
"""The CID 2 anatomic modifier the "posterior" aspect is written as."""


@dataclass
class Sent:
    """What one way in stored, and how to send it again."""

    kind: str
    sop_instance_uid: str
    again: Callable[[], httpx.Response] | None
    """The retry with the same capture_id (None for a rejection note: it has none)."""


def via_api(site: Site) -> Sent:
    form = {"patient_id": MRN, "issuer": ISSUER, **site.tags, **CLINICAL_ONLY}
    form["capture_id"] = str(uuid.uuid4())
    photo = a_photo()

    def send() -> httpx.Response:
        files = {"file": ("p.jpg", photo, "image/jpeg")}
        return site.api.post("/api/v1/photos", data=form, files=files, headers=site.bearer)

    return _sent("photo", send)


def via_capture_page(site: Site) -> Sent:
    nurse = site.browser("photographer")
    form = {**site.tags, **CLINICAL_ONLY, "capture_id": str(uuid.uuid4())}
    photo = a_photo()

    def send() -> httpx.Response:
        return nurse.post(
            f"/patients/{MRN}/photos?issuer={ISSUER}",
            data=form,
            files={"file": ("p.jpg", photo, "image/jpeg")},
        )

    first = send()
    assert first.status_code == 201, first.text
    found = re.search(r'SOP Instance UID <span class="mono">([0-9.]+)<', first.text)
    assert found
    return Sent("photo", found.group(1), send)


def via_bedside(site: Site) -> Sent:
    nurse = site.browser("photographer")
    card = nurse.get("/bedside/confirm", params={"mrn": MRN, "issuer": ISSUER})
    key = re.search(r'name="confirmation" value="([0-9a-f]+)"', card.text)
    assert key
    opened = nurse.post(
        "/bedside/sessions",
        data={"mrn": MRN, "issuer": ISSUER, "confirmation": key.group(1)},
        follow_redirects=False,
    )
    session_url = opened.headers["location"].removesuffix("/consent")
    consented = nurse.post(session_url + "/consent", data=CLINICAL_ONLY, follow_redirects=False)
    assert consented.status_code == 303
    form = {**site.tags, "capture_id": str(uuid.uuid4())}
    photo = a_photo()

    def send() -> httpx.Response:
        return nurse.post(
            session_url + "/photos",
            data=form,
            files={"file": ("p.jpg", photo, "image/jpeg")},
            headers={"Accept": "application/json"},
        )

    return _sent("photo", send)


def via_desk_upload(site: Site) -> Sent:
    doctor = site.browser("clinician")
    form = {
        "patient_id": MRN,
        "issuer": ISSUER,
        **site.tags,
        **CLINICAL_ONLY,
        "session_id": str(uuid.uuid4()),
        "capture_id": str(uuid.uuid4()),
        "captured_at": "2026-05-04T10:15:00+02:00",
        "captured_at_source": "file",
    }
    photo = a_photo()

    def send() -> httpx.Response:
        files = {"file": ("p.jpg", photo, "image/jpeg")}
        return doctor.post(
            "/api/v1/photos", data=form, files=files, headers={"Accept": "application/json"}
        )

    return _sent("photo", send)


def via_api_document(site: Site) -> Sent:
    form = {"patient_id": MRN, "issuer": ISSUER, "title": "Referral letter"}
    form["capture_id"] = str(uuid.uuid4())
    pdf = a_pdf(f"Referral {uuid.uuid4()}")

    def send() -> httpx.Response:
        files = {"file": ("r.pdf", pdf, "application/pdf")}
        return site.api.post("/api/v1/documents", data=form, files=files, headers=site.bearer)

    return _sent("document", send)


def via_desk_document(site: Site) -> Sent:
    doctor = site.browser("clinician")
    form = {"patient_id": MRN, "issuer": ISSUER, "title": "Signed consent form"}
    form |= {"capture_id": str(uuid.uuid4()), "session_id": str(uuid.uuid4())}
    pdf = a_pdf(f"Consent {uuid.uuid4()}")

    def send() -> httpx.Response:
        files = {"file": ("c.pdf", pdf, "application/pdf")}
        return doctor.post(
            "/api/v1/documents", data=form, files=files, headers={"Accept": "application/json"}
        )

    return _sent("document", send)


O_BRIEN = {
    "mrn": MRN,
    "family_name": "O'Brien",
    "given_name": "Seán",
    "birth_date": date(1948, 7, 30),
    "sex": Sex.MALE,
}


def via_stow_rs(site: Site) -> Sent:
    return _stowed(site, "photo", device_photo(**O_BRIEN))


def via_stow_rs_document(site: Site) -> Sent:
    return _stowed(site, "document", device_pdf(**O_BRIEN))


def _stowed(site: Site, kind: str, part10: bytes) -> Sent:
    boundary = "every-way-in"
    body = (
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + part10
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'

    def send() -> httpx.Response:
        return site.api.post(
            "/dicomweb/studies",
            content=body,
            params=CLINICAL_ONLY,
            headers={**site.bearer, "Content-Type": content_type},
        )

    first = send()
    assert first.status_code == 200, first.text
    [stored] = first.json()["00081199"]["Value"]
    return Sent(kind, stored["00081155"]["Value"][0], send)


def _correct(site: Site, original: str | None = None) -> tuple[str, str]:
    """A photo (through the API, unless given), then its details corrected: (the corrected
    copy, the rejection note)."""
    original = original or via_api(site).sop_instance_uid
    doctor = site.browser("clinician")
    page = doctor.get(f"/patients/{MRN}/photos/{original}/correct?issuer={ISSUER}")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    done = doctor.post(
        f"/patients/{MRN}/photos/{original}/correct?issuer={ISSUER}",
        data={
            "token": token,
            "kind": "details",
            "reason": "Wrong side recorded",
            "laterality": "L",
        },
    )
    assert done.status_code == 200, done.text
    with site.runtime.db.session() as session:
        row = session.scalars(select(Instance).where(Instance.sop_instance_uid == original)).one()
        copy = session.scalars(select(Instance).where(Instance.replaces_id == row.id)).one()
        note = session.get_one(Instance, row.rejected_by_id)
        return copy.sop_instance_uid, note.sop_instance_uid


def via_correction(site: Site) -> Sent:
    copy, _note = _correct(site)
    return Sent("photo", copy, None)


def via_rejection_note(site: Site) -> Sent:
    _copy, note = _correct(site)
    return Sent("rejection_note", note, None)


def via_measurement(site: Site) -> Sent:
    """A photo with a calibration marker filed under a wound, its outline measured and kept:
    the measurement report."""
    site.finding = site.finding or open_wound(site)
    scene = marked_scene()
    photo = site.api.post(
        "/api/v1/photos",
        data={"patient_id": MRN, "issuer": ISSUER, **site.tags, **CLINICAL_ONLY},
        files={"file": ("wound.jpg", scene_jpeg(scene), "image/jpeg")},
        headers=site.bearer,
    )
    assert photo.status_code == 201, photo.text
    recorded = site.api.post(
        f"/api/v1/patients/{MRN}/measurements?issuer={ISSUER}",
        json={
            "sop_instance_uid": photo.json()["sop_instance_uid"],
            "outline": scene.outline_px.round(2).tolist(),
            "record": True,
        },
        headers=site.bearer,
    )
    assert recorded.status_code == 200, recorded.text
    return Sent("measurement_report", recorded.json()["report_sop_instance_uid"], None)


def open_wound(site: Site) -> str:
    """A new wound of the patient: its id, as a capture form sends it."""
    opened = site.api.post(
        f"/api/v1/patients/{MRN}/findings?issuer={ISSUER}",
        json={"kind": "pressure-injury", "body_site": "14975008", "laterality": "R"},
        headers=site.bearer,
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _sent(kind: str, send: Callable[[], httpx.Response]) -> Sent:
    first = send()
    assert first.status_code == 201, first.text
    return Sent(kind, first.json()["sop_instance_uid"], send)


WAYS_IN = [
    via_api,
    via_capture_page,
    via_bedside,
    via_desk_upload,
    via_correction,
    via_api_document,
    via_desk_document,
    via_rejection_note,
    via_measurement,
    via_stow_rs,
    via_stow_rs_document,
]
PHOTO_WAYS_IN = [via_api, via_capture_page, via_bedside, via_desk_upload, via_correction]


@pytest.mark.parametrize("way_in", WAYS_IN, ids=lambda way: way.__name__.removeprefix("via_"))
def test_every_way_in_keeps_every_promise(way_in: Callable[[Site], Sent], site: Site) -> None:
    sent = way_in(site)
    db = site.runtime.db
    with db.session() as session:
        row = session.scalars(
            select(Instance).where(Instance.sop_instance_uid == sent.sop_instance_uid)
        ).one()
        # Filed for the patient the user confirmed.
        assert (row.kind, row.patient.mrn, row.patient.issuer) == (sent.kind, MRN, ISSUER)
        # An image carries an explicit consent record, as it was asked.
        if row.kind == "photo":
            consent = row.consent_record
            assert (consent.clinical_record, consent.teaching, consent.publication) == (
                True,
                False,
                False,
            )
            assert consent.method == "verbal"
        else:
            assert row.consent_id is None
        # Audited, by an event naming what was stored.
        actions = session.scalars(select(AuditRecord.action)).all()
        events = [
            event
            for event in session.scalars(select(AuditRecord))
            if sent.sop_instance_uid in event.objects and event.action.endswith(".stored")
        ]
        assert [event.action for event in events] == [STORED_ACTIONS[sent.kind]], actions
        # Queued once for the PACS.
        deliveries = session.scalar(
            select(func.count(Delivery.id)).where(Delivery.instance_id == row.id)
        )
        assert deliveries == 1
        study, series = row.study.study_instance_uid, row.series.series_instance_uid
        count = session.scalar(select(func.count(Instance.id)))
        stored = site.runtime.files.resolve(row.storage_path).read_bytes()
    assert_valid_dicom(stored, expected_warnings=OBJECT_WARNINGS.get(sent.kind, frozenset()))
    _assert_visible(site, study, series, sent.sop_instance_uid)
    # Sent again with the same capture_id: the same object, nothing new stored.
    if sent.again is not None:
        again = sent.again()
        assert again.status_code == 200, again.text
        if again.headers.get("content-type", "").startswith("application/json"):
            assert again.json()["sop_instance_uid"] == sent.sop_instance_uid
        with db.session() as session:
            assert session.scalar(select(func.count(Instance.id))) == count


@pytest.mark.parametrize("way_in", PHOTO_WAYS_IN, ids=lambda way: way.__name__.removeprefix("via_"))
def test_every_way_in_files_the_photo_under_the_finding_chosen(
    way_in: Callable[[Site], Sent], site: Site
) -> None:
    site.finding = open_wound(site)
    sent = way_in(site)
    with site.runtime.db.session() as session:
        row = session.scalars(
            select(Instance).where(Instance.sop_instance_uid == sent.sop_instance_uid)
        ).one()
        assert (row.finding_id, row.finding_label) == (int(site.finding), "Wound 1")


@pytest.mark.parametrize("way_in", PHOTO_WAYS_IN, ids=lambda way: way.__name__.removeprefix("via_"))
def test_every_way_in_records_the_face_of_the_site(
    way_in: Callable[[Site], Sent], site: Site
) -> None:
    sent = way_in(site)
    with site.runtime.db.session() as session:
        row = session.scalars(
            select(Instance).where(Instance.sop_instance_uid == sent.sop_instance_uid)
        ).one()
        # (The correction's copy is of the left forearm: it corrected the side, kept the face.)
        assert row.aspect == "posterior" and row.where.endswith(" forearm, back"), row.where
        study, series = row.study.study_instance_uid, row.series.series_instance_uid
        stored = dcmread(BytesIO(site.runtime.files.resolve(row.storage_path).read_bytes()))
    [region] = stored.AnatomicRegionSequence
    [modifier] = region.AnatomicRegionModifierSequence
    assert (modifier.CodeValue, modifier.CodingSchemeDesignator, modifier.CodeMeaning) == POSTERIOR
    assert_valid_dicom(stored_bytes(stored), expected_warnings=VIEW_WARNINGS)
    # Over DICOMweb, as the object holds it: Anatomic Region Sequence > its Modifier Sequence.
    metadata = site.api.get(
        f"/dicomweb/studies/{study}/series/{series}/instances/{sent.sop_instance_uid}/metadata",
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    [obj] = metadata.json()
    [item] = obj["00082218"]["Value"]
    assert item["00082220"]["Value"][0]["00080100"]["Value"] == [POSTERIOR[0]]
    # And in a search's answer, which the index makes.
    found = site.api.get(
        f"/dicomweb/studies/{study}/instances",
        params={"SOPInstanceUID": sent.sop_instance_uid},
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    [listed] = found.json()
    [item] = listed["00082218"]["Value"]
    assert item["00082220"]["Value"][0]["00080100"]["Value"] == [POSTERIOR[0]]


def stored_bytes(dataset: Any) -> bytes:
    out = BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def refused_photo(site: Site, form: dict[str, str]) -> dict[str, str]:
    """The problems the API names (422, problem JSON) for a photo sent with ``form``."""
    refused = site.api.post(
        "/api/v1/photos",
        data=form,
        files={"file": ("p.jpg", a_photo(), "image/jpeg")},
        headers=site.bearer,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors: dict[str, str] = refused.json()["errors"]
    return errors


@pytest.mark.parametrize(
    ("site_code", "aspect", "problem"),
    [
        ("14975008", "inferior", "the aspect of forearm must be one of"),
        ("54735007", "anterior", "sacrum takes no aspect"),
        ("14975008", "sideways", "aspect must be one of"),
    ],
)
def test_a_face_the_site_does_not_have_is_refused(
    site_code: str, aspect: str, problem: str, site: Site
) -> None:
    laterality = "R" if site_code == "14975008" else "U"
    form = {"patient_id": MRN, "issuer": ISSUER, **CLINICAL_ONLY}
    form |= {"body_site": site_code, "laterality": laterality, "aspect": aspect}
    assert problem in refused_photo(site, form)["aspect"]


@pytest.mark.parametrize("whose", ["another patient's", "closed"])
def test_no_photo_is_filed_under_another_patients_or_a_closed_finding(
    whose: str, site: Site
) -> None:
    wound = open_wound(site)
    if whose == "closed":
        closed = site.api.post(
            f"/api/v1/patients/{MRN}/findings/{wound}/close?issuer={ISSUER}",
            json={},
            headers=site.bearer,
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["closed_on"] is not None
    with site.runtime.db.session() as session:
        before = session.scalar(select(func.count(Instance.id)))
    form = {"patient_id": MRN, "issuer": ISSUER, **TAGS, **CLINICAL_ONLY, "finding": wound}
    if whose != "closed":
        form["patient_id"] = "PC100001"  # the wound is PC100003's
    assert "finding" in refused_photo(site, form)
    with site.runtime.db.session() as session:
        assert session.scalar(select(func.count(Instance.id))) == before


def test_a_rejected_object_is_hidden_from_dicomweb(site: Site) -> None:
    original = via_api(site).sop_instance_uid
    with site.runtime.db.session() as session:
        row = session.scalars(select(Instance).where(Instance.sop_instance_uid == original)).one()
        study, series = row.study.study_instance_uid, row.series.series_instance_uid
    _assert_visible(site, study, series, original)
    _copy, note = _correct(site, original)
    listed = _listed(site, study)
    assert original not in listed and note in listed
    gone = site.api.get(
        f"/dicomweb/studies/{study}/series/{series}/instances/{original}",
        headers={**site.bearer, "Accept": _DICOM},
    )
    assert gone.status_code == 404


_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _listed(site: Site, study: str) -> list[str]:
    answer = site.api.get(
        f"/dicomweb/studies/{study}/instances",
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    assert answer.status_code == 200, answer.text
    objects: list[dict[str, Any]] = answer.json()
    return [obj["00080018"]["Value"][0] for obj in objects]


def _assert_visible(site: Site, study: str, series: str, sop: str) -> None:
    assert sop in _listed(site, study)
    patient_level = site.api.get(
        "/dicomweb/studies",
        params={"PatientID": MRN},
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    assert study in [obj["0020000D"]["Value"][0] for obj in patient_level.json()]
    retrieved = site.api.get(
        f"/dicomweb/studies/{study}/series/{series}/instances/{sop}",
        headers={**site.bearer, "Accept": _DICOM},
    )
    assert retrieved.status_code == 200, retrieved.text
    boundary = retrieved.headers["content-type"].split("boundary=")[1].strip('"')
    part = retrieved.content.split(f"--{boundary}".encode())[1]
    body = part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
    stored = dcmread(BytesIO(body))
    assert str(stored.SOPInstanceUID) == sop
    # The study is found by the date its object carries: the study's own local date.
    by_date = site.api.get(
        "/dicomweb/studies",
        params={"PatientID": MRN, "StudyDate": str(stored.StudyDate)},
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    assert by_date.status_code == 200, by_date.text
    assert study in [obj["0020000D"]["Value"][0] for obj in by_date.json()]
    metadata = site.api.get(
        f"/dicomweb/studies/{study}/series/{series}/instances/{sop}/metadata",
        headers={**site.bearer, "Accept": "application/dicom+json"},
    )
    assert metadata.status_code == 200, metadata.text
