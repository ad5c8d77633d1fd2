"""The wound measurement report: TID 1500 built by highdicom, checked by dciodvfy, read back."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from pointcare.dicom.measurement_report import (
    COMPREHENSIVE_3D_SR_STORAGE,
    ReportedFigures,
    ReportedFinding,
    build_measurement_report,
)
from pointcare.dicom.modules import Equipment, to_part10
from pointcare.dicom.uids import new_uid
from pointcare.domain.body_sites import Aspect, Laterality
from pointcare.domain.findings import FindingKind
from pointcare.imaging.photo import normalise_photo
from tests.support.dicom_checks import LOCAL_SCHEME_WARNING, assert_valid_dicom
from tests.unit.dicom.test_photo import FOREARM, build
from tests.unit.imaging.images import jpeg_bytes, scene

OUTLINE = np.array([[40.5, 30.0], [120.0, 34.25], [110.0, 90.0], [45.0, 80.0]])
TRACKING_UID = new_uid()


@pytest.fixture(scope="module")
def photo() -> pydicom.Dataset:
    return build(normalise_photo(jpeg_bytes(scene()), max_pixels=10**6))


def report(photo: pydicom.Dataset, **changes: Any) -> pydicom.Dataset:
    arguments: dict[str, Any] = {
        "photo": photo,
        "finding": ReportedFinding(
            tracking_uid=TRACKING_UID,
            label="Wound 2",
            kind=FindingKind.VENOUS_ULCER,
            body_site=FOREARM,
            laterality=Laterality.LEFT,
            aspect=Aspect.ANTERIOR,
        ),
        "figures": ReportedFigures(
            area_cm2=4.2412, length_cm=3.0, width_cm=1.8, perimeter_cm=7.7, outline_px=OUTLINE
        ),
        "observer_name": "DOCTOR^Dana",
        "measured_at": datetime(2024, 11, 6, 9, 30, tzinfo=UTC),
        "sop_instance_uid": new_uid(),
        "series_instance_uid": new_uid(),
        "series_number": 90,
        "instance_number": 1,
        "equipment": Equipment(
            software_versions="pointcare 0.1.0", institution_name="St Elsewhere"
        ),
        "algorithm_version": "0.1.0",
    }
    return build_measurement_report(**(arguments | changes))


def test_report_passes_dciodvfy_and_reads_back_in_highdicom(photo: pydicom.Dataset) -> None:
    data = to_part10(report(photo))
    assert_valid_dicom(data, expected_warnings={LOCAL_SCHEME_WARNING})
    read = pydicom.dcmread(io.BytesIO(data))
    assert read.SOPClassUID == COMPREHENSIVE_3D_SR_STORAGE
    # The report lives in the photo's study, under the photo's patient.
    assert read.StudyInstanceUID == photo.StudyInstanceUID
    assert read.PatientID == photo.PatientID
    assert read.PatientName == photo.PatientName
    sr = hd.sr.Comprehensive3DSR.from_dataset(read)
    groups = sr.content.get_planar_roi_measurement_groups(tracking_uid=TRACKING_UID)
    assert len(groups) == 1
    group = groups[0]
    assert group.tracking_identifier == "Wound 2"
    values = {m.name.meaning: (m.value, m.unit.value) for m in group.get_measurements()}
    assert values == {
        "Area": (pytest.approx(4.2412), "cm2"),
        "Length": (pytest.approx(3.0), "cm"),
        "Width": (pytest.approx(1.8), "cm"),
        "Perimeter": (pytest.approx(7.7), "cm"),
    }
    region = group.roi
    assert region.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
    points = region.value
    assert points[0] == pytest.approx(points[-1])  # closed
    assert np.asarray(points[:-1]) == pytest.approx(OUTLINE, abs=1e-3)
    source = region.ContentSequence[0].ReferencedSOPSequence[0]
    assert source.ReferencedSOPInstanceUID == photo.SOPInstanceUID
    assert group.finding_type.value == "FK-venous-ulcer"
    (site,) = group.finding_sites
    assert site.value.value == FOREARM.snomed_id
    assert site.laterality == codes.SCT.Left
    assert site.topographical_modifier.value == "255549009"  # anterior
    # The photo is the evidence the report was made from.
    evidence = read.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[
        0
    ].ReferencedSOPInstanceUID == (photo.SOPInstanceUID)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "figures": ReportedFigures(
                    area_cm2=0, length_cm=1, width_cm=1, perimeter_cm=1, outline_px=OUTLINE
                )
            },
            "area_cm2",
        ),
        (
            {
                "figures": ReportedFigures(
                    area_cm2=1, length_cm=1, width_cm=1, perimeter_cm=1, outline_px=OUTLINE[:2]
                )
            },
            "at least 3",
        ),
        ({"measured_at": datetime(2024, 11, 6, 9, 30)}, "ContentDateTime"),
    ],
)
def test_bad_inputs_are_refused(
    photo: pydicom.Dataset, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        report(photo, **changes)
