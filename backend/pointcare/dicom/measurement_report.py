"""Wound measurement reports: DICOM Comprehensive 3D SR, TID 1500 Measurement Report.

One report per measurement: the traced outline as a planar ROI (TID 1410, a closed POLYLINE
in the photo's pixel coordinates, referencing the photo), its area, length (longest
diameter), width (perpendicular to it) and perimeter in UCUM units, the finding's kind and
site, and a Tracking Identifier and UID that are the finding's own, so that every report of
the same wound carries the same tracking UID and a PACS or viewer can follow it over time.
highdicom builds the content tree; the report goes in the photo's study, patient and study
attributes copied from the photo itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import highdicom as hd
import numpy as np
from highdicom.sr import CodedConcept
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileDataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

from pointcare.dicom import values as v
from pointcare.dicom.modules import (
    CHARACTER_SET,
    Equipment,
    local_scheme_identification,
    with_file_meta,
)
from pointcare.domain.body_sites import Aspect, BodySite, Laterality
from pointcare.domain.codes import LOCAL_SCHEME, Code
from pointcare.domain.findings import FindingKind

COMPREHENSIVE_3D_SR_STORAGE = "1.2.840.10008.5.1.4.1.1.88.34"
WOUND_MEASUREMENT_PROCEDURE = Code(
    "PC-WOUND-MEASURE", LOCAL_SCHEME, "Wound measurement from photograph"
)
"""Procedure reported (TID 1500 requires one): no public code names photographic wound
measurement with a calibration marker."""
ALGORITHM_NAME = "Pointcare marker homography"
_LATERALITY_CODES = {
    Laterality.RIGHT: codes.SCT.Right,
    Laterality.LEFT: codes.SCT.Left,
    Laterality.BOTH: codes.SCT.RightAndLeft,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedFinding:
    tracking_uid: str
    """The finding's own UID: the same in every report of it."""
    label: str
    kind: FindingKind
    body_site: BodySite
    laterality: Laterality
    aspect: Aspect | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedFigures:
    area_cm2: float
    length_cm: float
    width_cm: float
    perimeter_cm: float
    outline_px: NDArray[np.float64]
    """(N, 2) x, y in the photo's pixels, as stored (column, row; origin at the top left
    corner of the top left pixel)."""


def build_measurement_report(
    *,
    photo: Dataset,
    finding: ReportedFinding,
    figures: ReportedFigures,
    observer_name: str,
    measured_at: datetime,
    sop_instance_uid: str,
    series_instance_uid: str,
    series_number: int,
    instance_number: int,
    equipment: Equipment,
    algorithm_version: str,
) -> FileDataset:
    """The measurement report of ``figures`` traced on ``photo`` (its data set; the header is
    enough), as a Part 10 ready data set."""
    outline = np.asarray(figures.outline_px, dtype=np.float64)
    if outline.ndim != 2 or outline.shape[1] != 2 or len(outline) < 3:
        raise ValueError("GraphicData: an outline needs at least 3 (x, y) points")
    for name in ("area_cm2", "length_cm", "width_cm", "perimeter_cm"):
        if not getattr(figures, name) > 0:
            raise ValueError(f"{name} must be positive, got {getattr(figures, name)}")
    v.aware(measured_at, "ContentDateTime")
    site = hd.sr.FindingSite(
        anatomic_location=_concept(finding.body_site.code),
        laterality=_LATERALITY_CODES.get(finding.laterality),
        topographical_modifier=_concept(finding.aspect.code) if finding.aspect else None,
    )
    algorithm = hd.sr.AlgorithmIdentification(name=ALGORITHM_NAME, version=algorithm_version)

    def measured(
        name: hd.sr.CodedConcept, value: float, unit: hd.sr.CodedConcept
    ) -> hd.sr.Measurement:
        return hd.sr.Measurement(
            name=name, value=round(value, 4), unit=unit, algorithm_id=algorithm
        )

    closed = np.vstack([outline, outline[:1]])  # a closed POLYLINE repeats its first point
    roi = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=finding.tracking_uid, identifier=finding.label
        ),
        referenced_region=hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=closed.astype(np.float32),
            source_image=hd.sr.SourceImageForRegion(
                referenced_sop_class_uid=photo.SOPClassUID,
                referenced_sop_instance_uid=photo.SOPInstanceUID,
            ),
        ),
        finding_type=_concept(finding.kind.code),
        finding_sites=[site],
        algorithm_id=algorithm,
        measurements=[
            measured(codes.SCT.Area, figures.area_cm2, codes.UCUM.SquareCentimeter),
            measured(codes.SCT.Length, figures.length_cm, codes.UCUM.Centimeter),
            measured(codes.SCT.Width, figures.width_cm, codes.UCUM.Centimeter),
            measured(codes.SCT.Perimeter, figures.perimeter_cm, codes.UCUM.Centimeter),
        ],
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=v.person_name(observer_name, "PersonName")
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=_concept(WOUND_MEASUREMENT_PROCEDURE),
        imaging_measurements=[roi],
    )
    document = hd.sr.Comprehensive3DSR(
        evidence=[photo],
        content=report,
        series_instance_uid=v.uid(series_instance_uid, "SeriesInstanceUID"),
        series_number=series_number,
        sop_instance_uid=v.uid(sop_instance_uid, "SOPInstanceUID"),
        instance_number=instance_number,
        manufacturer=equipment.manufacturer,
        institution_name=equipment.institution_name or None,
        is_complete=True,
        series_description="Wound measurements",
        content_date=v.da(measured_at),
        content_time=v.tm(measured_at),
    )
    document.SpecificCharacterSet = CHARACTER_SET
    document.SoftwareVersions = v.text(equipment.software_versions, "SoftwareVersions", "LO")
    document.TimezoneOffsetFromUTC = v.utc_offset(measured_at)
    document.CodingSchemeIdentificationSequence = list(local_scheme_identification())
    _dates_as_text(document)
    return with_file_meta(document, ExplicitVRLittleEndian)


def _dates_as_text(ds: Dataset) -> None:
    """highdicom sets dates and times as pydicom's date objects; our Part 10 encoder takes
    every string VR as text, so they become their DICOM strings."""
    for element in ds.iterall():
        if element.VR in {"DA", "DT", "TM"} and element.value not in (None, ""):
            element.value = str(element.value)


def _concept(code: Code) -> CodedConcept:
    return CodedConcept(value=code.value, scheme_designator=code.scheme, meaning=code.meaning)
