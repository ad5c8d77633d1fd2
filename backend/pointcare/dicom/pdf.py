"""Encapsulated PDF objects (PS3.3 A.45.1): a scanned consent form or a referral letter, filed
in the patient's record beside the photos.

The PDF is kept byte for byte (padded to an even length, as OB requires; Encapsulated Document
Length says where it ends). Only a real PDF is accepted: it must start with ``%PDF-`` and end
with ``%%EOF`` (trailing whitespace allowed), and must not be encrypted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from pointcare.dicom import values as v
from pointcare.dicom.modules import (
    Equipment,
    SeriesContext,
    StudyContext,
    set_equipment,
    set_general_study,
    set_patient_module,
    set_series,
    set_sop_common,
    with_file_meta,
)
from pointcare.domain.patients import PatientIdentity

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
PDF_MAGIC = b"%PDF-"
_EOF = re.compile(rb"%%EOF\s*\Z")
_ENCRYPTED = re.compile(rb"/Encrypt\s")


class NotAPdf(ValueError):
    """The bytes are not a PDF we can file."""


def check_pdf(data: bytes) -> None:
    """``NotAPdf`` unless ``data`` is a complete, unencrypted PDF."""
    if not data.startswith(PDF_MAGIC):
        raise NotAPdf("This file is not a PDF.")
    if not _EOF.search(data[-1024:]):
        raise NotAPdf("This PDF is incomplete (it does not end with %%EOF): send it again.")
    if _ENCRYPTED.search(data):
        raise NotAPdf("This PDF is password-protected: remove the protection, then send it.")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentDetails:
    sop_instance_uid: str
    instance_number: int
    title: str
    """Document Title: what a clinician sees in a list ("Consent form", "Referral letter")."""
    created_at: datetime


def build_encapsulated_pdf(
    *,
    pdf: bytes,
    patient: PatientIdentity,
    study: StudyContext,
    series: SeriesContext,
    details: DocumentDetails,
    equipment: Equipment,
) -> FileDataset:
    check_pdf(pdf)
    created = v.aware(details.created_at, "created_at")
    ds = Dataset()
    set_sop_common(
        ds,
        sop_class_uid=ENCAPSULATED_PDF_STORAGE,
        sop_instance_uid=details.sop_instance_uid,
        at=created,
    )
    set_patient_module(ds, patient)
    set_general_study(ds, study, at=created)
    # Encapsulated Document Series
    set_series(ds, series, modality="DOC")
    # General Equipment and SC Equipment: a document scanned or chosen at a workstation
    set_equipment(ds, equipment)
    ds.ConversionType = "WSD"

    # Encapsulated Document
    ds.InstanceNumber = details.instance_number
    ds.ContentDate = v.da(created)
    ds.ContentTime = v.tm(created)
    ds.AcquisitionDateTime = v.dt(created)
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = v.text(details.title.strip(), "DocumentTitle", "LO")
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    return with_file_meta(ds, ExplicitVRLittleEndian)


def encapsulated_pdf(data: Dataset) -> bytes:
    """The PDF of a stored Encapsulated PDF object, without its padding byte."""
    document = bytes(data.EncapsulatedDocument)
    length = int(getattr(data, "EncapsulatedDocumentLength", len(document)))
    return document[:length]
