"""Encapsulated PDF: a valid DICOM object carrying the PDF byte for byte; non-PDFs refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from io import BytesIO

import pytest
from fpdf import FPDF
from pydicom import dcmread
from pydicom.dataset import FileDataset

from pointcare.dicom.modules import Equipment, SeriesContext, StudyContext, to_part10
from pointcare.dicom.pdf import (
    ENCAPSULATED_PDF_STORAGE,
    DocumentDetails,
    NotAPdf,
    build_encapsulated_pdf,
    check_pdf,
    encapsulated_pdf,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.patients import PatientIdentity, Sex
from tests.support.dicom_checks import assert_valid_dicom, pydicom_part10

PATIENT = PatientIdentity(
    mrn="PC100001",
    issuer="PCDEMO",
    family_name="Öberg",
    given_name="Åsa",
    birth_date=date(1957, 3, 14),
    sex=Sex.FEMALE,
)


def a_pdf(text: str = "Consent form") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def _dataset(pdf: bytes) -> FileDataset:
    tz = timezone(timedelta(hours=2))
    return build_encapsulated_pdf(
        pdf=pdf,
        patient=PATIENT,
        study=StudyContext(
            study_instance_uid=new_uid(),
            study_datetime=datetime(2026, 5, 4, 9, tzinfo=UTC),
            study_id="S1",
            admission_id="V24-000101",
        ),
        series=SeriesContext(
            series_instance_uid=new_uid(), series_number=2, description="Documents"
        ),
        details=DocumentDetails(
            sop_instance_uid=new_uid(),
            instance_number=1,
            title="Consent form",
            created_at=datetime(2026, 5, 4, 10, tzinfo=tz),
        ),
        equipment=Equipment(software_versions="0.1.0", institution_name="Demo Hospital"),
    )


@pytest.mark.parametrize("pad", [b"", b"\n"], ids=["even-or-odd", "one-more-byte"])
def test_the_pdf_is_carried_byte_for_byte_in_a_valid_object(pad: bytes) -> None:
    pdf = a_pdf() + pad
    built = _dataset(pdf)
    data = to_part10(built)
    assert_valid_dicom(data)
    ds = dcmread(BytesIO(data))
    assert ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert ds.Modality == "DOC" and ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.DocumentTitle == "Consent form" and ds.PatientID == "PC100001"
    assert len(ds.EncapsulatedDocument) % 2 == 0
    assert encapsulated_pdf(ds) == pdf
    assert data == pydicom_part10(built)  # our encoder writes exactly what pydicom would


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "not a PDF"),
        (b"", "not a PDF"),
        (a_pdf()[:-200], "incomplete"),
        (a_pdf().replace(b"trailer\n<<", b"trailer\n<<\n/Encrypt 9 0 R", 1), "password-protected"),
    ],
    ids=["png", "empty", "truncated", "encrypted"],
)
def test_what_is_not_a_whole_plain_pdf_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(NotAPdf, match=message):
        check_pdf(data)
