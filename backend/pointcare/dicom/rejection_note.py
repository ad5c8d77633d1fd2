"""IHE IOCM rejection notes: Key Object Selection Documents (PS3.3 A.35.4) that reject images.

A rejection note is a KOS in the rejected images' study whose title (Concept Name) says why:
rejected for quality reasons, for patient safety reasons, or because of an incorrect modality
worklist entry (PS3.16 CID 7011). Its evidence lists every rejected image, and its content
references each one (TID 2010). An archive that understands IOCM hides the images it names;
one that does not keeps the note as a record beside them.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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
from pointcare.domain.codes import Code
from pointcare.domain.patients import PatientIdentity

KEY_OBJECT_SELECTION_DOCUMENT = "1.2.840.10008.5.1.4.1.1.88.59"
KEY_OBJECT_DESCRIPTION = Code("113012", "DCM", "Key Object Description")


class RejectionReason(StrEnum):
    """Why images are rejected: the document titles of PS3.16 CID 7011 that IOCM acts on."""

    QUALITY = "113001"
    PATIENT_SAFETY = "113037"
    WORKLIST_ENTRY = "113038"

    @property
    def code(self) -> Code:
        return Code(self.value, "DCM", _MEANINGS[self])

    @property
    def label(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    RejectionReason.QUALITY: "Rejected for Quality Reasons",
    RejectionReason.PATIENT_SAFETY: "Rejected for Patient Safety Reasons",
    RejectionReason.WORKLIST_ENTRY: "Incorrect Modality Worklist Entry",
}


@dataclass(frozen=True, slots=True)
class RejectedImage:
    series_instance_uid: str
    sop_class_uid: str
    sop_instance_uid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectionNoteContent:
    """What a rejection note says, and where it is filed (the rejected images' study)."""

    reason: RejectionReason
    patient: PatientIdentity
    """As the rejected images carry it: a note sits beside them, under the same patient."""
    study: StudyContext
    """The rejected images' study, where the note is filed."""
    images: Seq[RejectedImage]
    series_instance_uid: str
    sop_instance_uid: str
    created_at: datetime
    description: str
    """Why, in words (Key Object Description): the reason a clinician gave."""
    equipment: Equipment


REJECTION_SERIES_NUMBER = 9999
"""Rejection notes stand apart from the photos' series, at the end of the study."""


def build_rejection_note(note: RejectionNoteContent) -> FileDataset:
    if not note.images:
        raise ValueError("a rejection note must reject at least one image")
    created = v.aware(note.created_at, "created_at")
    ds = Dataset()
    set_sop_common(
        ds,
        sop_class_uid=KEY_OBJECT_SELECTION_DOCUMENT,
        sop_instance_uid=note.sop_instance_uid,
        at=created,
    )
    ds.InstanceCreationDate = v.da(created)
    ds.InstanceCreationTime = v.tm(created)
    set_patient_module(ds, note.patient)
    set_general_study(ds, note.study, at=created)
    # Key Object Document Series
    set_series(
        ds,
        SeriesContext(
            series_instance_uid=note.series_instance_uid,
            series_number=REJECTION_SERIES_NUMBER,
            description="Rejection note",
        ),
        modality="KO",
    )
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    set_equipment(ds, note.equipment)

    # Key Object Document
    ds.InstanceNumber = 1
    ds.ContentDate = v.da(created)
    ds.ContentTime = v.tm(created)
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([_evidence(note)])

    # SR Document Content (TID 2010 Key Object Selection)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([v.code_item(note.reason.code)])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2010"
    ds.ContentTemplateSequence = Sequence([template])
    content = [_description(note.description)] if note.description.strip() else []
    content += [_image_item(image) for image in note.images]
    ds.ContentSequence = Sequence(content)
    return with_file_meta(ds, ExplicitVRLittleEndian)


def _evidence(note: RejectionNoteContent) -> Dataset:
    """The Hierarchical SOP Instance Reference Macro: study → series → the rejected images."""
    series_items = []
    for series_uid in dict.fromkeys(image.series_instance_uid for image in note.images):
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = Sequence(
            [_sop_reference(i) for i in note.images if i.series_instance_uid == series_uid]
        )
        series_items.append(series)
    study = Dataset()
    study.StudyInstanceUID = note.study.study_instance_uid
    study.ReferencedSeriesSequence = Sequence(series_items)
    return study


def _sop_reference(image: RejectedImage) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = image.sop_class_uid
    item.ReferencedSOPInstanceUID = image.sop_instance_uid
    return item


def _description(text: str) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([v.code_item(KEY_OBJECT_DESCRIPTION)])
    item.TextValue = v.text(text.strip(), "TextValue", "LT")
    return item


def _image_item(image: RejectedImage) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "IMAGE"
    item.ReferencedSOPSequence = Sequence([_sop_reference(image)])
    return item
