"""Documents over DICOMweb: an Encapsulated PDF is found by QIDO-RS with the attributes of a
document (no image attributes), its PDF is bulk data and its rendering, and it has no frames."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian

from pointcare.runtime import Runtime
from tests.integration.dicomweb.conftest import StoredObject, multipart_parts
from tests.unit.dicom.test_pdf import a_pdf

Client = TestClient[Litestar]
MRN = "PC100005"
IMAGE_ONLY = ("00280010", "00280011", "00280100", "00280008", "00200062", "00082218")
"""Rows, Columns, Bits Allocated, Number of Frames, Image Laterality, Anatomic Region Sequence."""


@dataclass(frozen=True, kw_only=True)
class Document(StoredObject):
    pdf: bytes


@pytest.fixture(scope="module")
def document(
    client: Client, bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> Document:
    pdf = a_pdf("Discharge letter")
    answer = client.post(
        "/api/v1/documents",
        data={"patient_id": MRN, "title": "Discharge letter", "capture_id": str(uuid.uuid4())},
        files={"file": ("letter.pdf", pdf, "application/pdf")},
        headers=bearer("clinician"),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    instances = client.get(
        f"/dicomweb/studies/{body['study_instance_uid']}/instances",
        headers=bearer("clinician"),
    ).json()
    [series] = {item["0020000E"]["Value"][0] for item in instances}
    return Document(
        pdf=pdf, study=body["study_instance_uid"], series=series, sop=body["sop_instance_uid"]
    )


def test_a_document_is_found_with_the_attributes_of_a_document(
    client: Client, reviewer: dict[str, str], document: Document
) -> None:
    [found] = client.get(
        "/dicomweb/instances", params={"SOPInstanceUID": document.sop}, headers=reviewer
    ).json()
    assert found["00080016"]["Value"] == [EncapsulatedPDFStorage]
    assert found["00080060"]["Value"] == ["DOC"]
    assert found["00080056"]["Value"] == ["ONLINE"]
    assert not set(IMAGE_ONLY) & set(found), "no image attributes for a document"
    [study] = client.get("/dicomweb/studies", params={"PatientID": MRN}, headers=reviewer).json()
    assert "DOC" in study["00080061"]["Value"]


def test_its_pdf_is_its_bulk_data_and_its_rendering(
    client: Client, reviewer: dict[str, str], document: Document, runtime: Runtime
) -> None:
    [metadata] = client.get(document.path + "/metadata", headers=reviewer).json()
    link = metadata["00420011"]["BulkDataURI"]
    assert link.endswith(document.path + "/bulkdata/00420011")
    bulk = client.get(document.path + "/bulkdata/00420011", headers=reviewer)
    [(part_type, data)] = multipart_parts(bulk.headers["content-type"], bulk.content)
    assert (part_type, data) == ("application/octet-stream", document.pdf)
    alone = client.get(
        document.path + "/bulkdata/00420011", headers={**reviewer, "Accept": "application/pdf"}
    )
    assert alone.headers["content-type"] == "application/pdf"
    assert alone.content == document.pdf
    rendered = client.get(
        document.path + "/rendered", headers={**reviewer, "Accept": "application/pdf"}
    )
    assert rendered.status_code == 200
    assert rendered.headers["content-type"] == "application/pdf"
    assert rendered.content == document.pdf


def test_it_is_sent_as_stored_and_has_no_frames_nor_pictures(
    client: Client, reviewer: dict[str, str], document: Document
) -> None:
    response = client.get(document.path, headers=reviewer)  # the default: Explicit VR LE
    [(part_type, data)] = multipart_parts(response.headers["content-type"], response.content)
    assert part_type == f"application/dicom; transfer-syntax={ExplicitVRLittleEndian}"
    assert pydicom.dcmread(BytesIO(data)).MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert "content-length" in response.headers, "sent as stored: its size is known"
    for path in ("/frames/1", "/bulkdata/7FE00010", "/frames/1/rendered"):
        assert client.get(document.path + path, headers=reviewer).status_code == 404, path
    for path in (f"/dicomweb/studies/{document.study}/rendered", document.path + "/thumbnail"):
        assert client.get(path, headers=reviewer).status_code == 404, path
