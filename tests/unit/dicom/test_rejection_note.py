"""IOCM rejection notes: valid Key Object Selection Documents that name what they reject."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from io import BytesIO

import pytest
from pydicom import dcmread

from pointcare.dicom.modules import Equipment, StudyContext, to_part10
from pointcare.dicom.rejection_note import (
    KEY_OBJECT_SELECTION_DOCUMENT,
    RejectedImage,
    RejectionNoteContent,
    RejectionReason,
    build_rejection_note,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.patients import PatientIdentity, Sex
from tests.support.dicom_checks import assert_valid_dicom, pydicom_part10

VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
PATIENT = PatientIdentity(
    mrn="PC100001",
    issuer="PCDEMO",
    family_name="Öberg",
    given_name="Åsa",
    birth_date=date(1957, 3, 14),
    sex=Sex.FEMALE,
)


def _note(
    reason: RejectionReason, images: list[RejectedImage], text: str = ""
) -> RejectionNoteContent:
    return RejectionNoteContent(
        reason=reason,
        patient=PATIENT,
        study=StudyContext(
            study_instance_uid=new_uid(),
            study_datetime=datetime(2026, 5, 4, 8, 0, tzinfo=UTC),
            study_id="1",
        ),
        images=images,
        series_instance_uid=new_uid(),
        sop_instance_uid=new_uid(),
        created_at=datetime(2026, 5, 5, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        description=text,
        equipment=Equipment(institution_name="Pointcare Demo Hospital", software_versions="0.1.0"),
    )


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_rejection_note_is_a_valid_kos_naming_every_rejected_image(
    reason: RejectionReason,
) -> None:
    series = new_uid()
    images = [RejectedImage(series, VL_PHOTO, new_uid()) for _ in range(3)]
    images.append(RejectedImage(new_uid(), VL_PHOTO, new_uid()))
    note = build_rejection_note(_note(reason, images, "Filed to the wrong patient"))
    data = to_part10(note)
    assert data == pydicom_part10(note)  # our encoder writes exactly what pydicom would
    assert_valid_dicom(data)
    ds = dcmread(BytesIO(data))
    assert ds.SOPClassUID == KEY_OBJECT_SELECTION_DOCUMENT
    assert ds.Modality == "KO"
    title = ds.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == (reason.value, "DCM")
    assert title.CodeMeaning == reason.label
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0]
    listed = {
        item.ReferencedSOPInstanceUID
        for s in evidence.ReferencedSeriesSequence
        for item in s.ReferencedSOPSequence
    }
    assert listed == {image.sop_instance_uid for image in images}
    referenced = {
        item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        for item in ds.ContentSequence
        if item.ValueType == "IMAGE"
    }
    assert referenced == listed
    assert ds.ContentSequence[0].TextValue == "Filed to the wrong patient"
    assert str(ds.PatientName) == "Öberg^Åsa"


def test_a_note_must_reject_something() -> None:
    with pytest.raises(ValueError, match="at least one image"):
        build_rejection_note(_note(RejectionReason.QUALITY, []))
