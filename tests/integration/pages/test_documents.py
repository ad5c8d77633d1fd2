"""POST /api/v1/documents: a PDF becomes an Encapsulated PDF in the patient's record, listed on
the review page and opened as the same PDF; anything else is refused and nothing is stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from io import BytesIO

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import dcmread
from sqlalchemy import func, select

from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import SignIn
from tests.support.dicom_checks import assert_valid_dicom
from tests.unit.dicom.test_pdf import a_pdf

Post = Callable[..., object]


def _post(client: TestClient[Litestar], headers: dict[str, str], pdf: bytes | None, **fields: str):  # type: ignore[no-untyped-def]
    form = {
        "patient_id": "PC100001",
        "issuer": "PCDEMO",
        "title": "Signed consent form",
        "capture_id": str(uuid.uuid4()),
    } | fields
    files = {"file": ("consent.pdf", pdf, "application/pdf")} if pdf is not None else None
    return client.post("/api/v1/documents", data=form, files=files, headers=headers)


def _count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return (
            session.scalar(select(func.count(Instance.id)).where(Instance.kind == "document")) or 0
        )


def test_a_pdf_is_stored_listed_and_opened_as_itself(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    runtime: Runtime,
    browser: SignIn,
) -> None:
    pdf = a_pdf("Consent for clinical photography")
    capture_id = str(uuid.uuid4())
    first = _post(client, bearer("photographer"), pdf, capture_id=capture_id)
    assert first.status_code == 201, first.text
    stored = first.json()
    again = _post(client, bearer("photographer"), pdf, capture_id=capture_id)
    assert again.status_code == 200 and again.json() == stored
    # The same file again, under a new capture_id: answered with the object already stored.
    duplicate = _post(client, bearer("photographer"), pdf)
    assert duplicate.status_code == 200
    assert duplicate.json() == {**stored, "capture_id": capture_id, "duplicate": True}
    assert _count(runtime) == 1

    with runtime.db.session() as session:
        row = session.scalars(select(Instance)).one()
        assert (row.kind, row.description, row.consent_id) == (
            "document",
            "Signed consent form",
            None,
        )
    data = runtime.files.resolve(row.storage_path).read_bytes()
    assert_valid_dicom(data)
    assert dcmread(BytesIO(data)).DocumentTitle == "Signed consent form"

    doctor = browser("clinician")
    review = doctor.get("/patients/PC100001?issuer=PCDEMO")
    assert "Signed consent form" in review.text
    opened = doctor.get(f"/patients/PC100001/documents/{stored['sop_instance_uid']}?issuer=PCDEMO")
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["cache-control"] == "no-store"
    assert opened.content == pdf
    other = doctor.get(f"/patients/PC100002/documents/{stored['sop_instance_uid']}?issuer=PCDEMO")
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("pdf", "fields", "status", "field"),
    [
        (None, {}, 400, None),
        (b"\xff\xd8\xff\xe0 a jpeg", {}, 422, "file"),
        (a_pdf()[:-300], {}, 422, "file"),
        (a_pdf(), {"title": "  "}, 422, "title"),
        (a_pdf(), {"title": "x" * 65}, 422, "title"),
        (a_pdf(), {"capture_id": "nope"}, 422, "capture_id"),
        (a_pdf(), {"patient_id": "NOSUCH"}, 422, "patient_id"),
    ],
    ids=["no-file", "jpeg", "truncated", "blank-title", "long-title", "bad-capture-id", "unknown"],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    runtime: Runtime,
    pdf: bytes | None,
    fields: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    answer = _post(client, bearer("photographer"), pdf, **fields)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in answer.json().get("errors", {})
    assert _count(runtime) == 0
    assert not list(runtime.files.resolve(".").rglob("*.dcm"))
