"""Wound measurements: each recorded measurement becomes a measurement report (DICOM SR, TID 1500)
in the record, stored by the same pipeline as the photo it measures.

The report goes in the photo's study, in a series of the study's measurement reports, so that a
PACS or viewer shows it beside the photo; it carries no consent record (it is not a picture of
the patient) and no thumbnail. Patient and study attributes come from the photo's own header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from pydicom import dcmread
from pydicom.dataset import Dataset, FileDataset

from pointcare import __version__
from pointcare.capture import filing
from pointcare.capture.pipeline import NewObject, Placement
from pointcare.db.models import Finding, Instance
from pointcare.dicom.measurement_report import (
    COMPREHENSIVE_3D_SR_STORAGE,
    ReportedFigures,
    ReportedFinding,
    build_measurement_report,
)
from pointcare.dicom.modules import Equipment
from pointcare.dicom.part10 import Part10Source, readable
from pointcare.domain.body_sites import Aspect, Laterality, body_site
from pointcare.domain.clock import TakenAt, TakenAtSource
from pointcare.domain.findings import FindingKind
from pointcare.domain.objects import ObjectKind
from pointcare.measurement.measure import Measurement

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredPhoto:
    """The stored photo a measurement was traced on, and the finding it is filed under."""

    photo: Instance
    header: Dataset
    """The photo's DICOM header (no pixels): the report's evidence."""
    finding: Finding


def photo_header(source: Part10Source) -> Dataset:
    """The header of a stored photo, without its pixel data."""
    return dcmread(readable(source), stop_before_pixels=True)


def prepare(
    measured: MeasuredPhoto,
    measurement: Measurement,
    *,
    observer_id: int,
    observer_name: str,
    measured_at: datetime,
    institution_name: str,
) -> NewObject:
    """The measurement report of ``measurement``, ready for ``ObjectStore.store``."""
    finding = measured.finding
    reported = ReportedFinding(
        tracking_uid=finding.tracking_uid,
        label=finding.label,
        kind=FindingKind(finding.kind),
        body_site=body_site(finding.body_site_code),
        laterality=Laterality(finding.laterality),
        aspect=Aspect(finding.aspect) if finding.aspect else None,
    )
    figures = ReportedFigures(
        area_cm2=measurement.area_cm2,
        length_cm=measurement.length_cm,
        width_cm=measurement.width_cm,
        perimeter_cm=measurement.perimeter_cm,
        outline_px=measurement.outline_px,
    )
    build = partial(
        _build,
        measured.header,
        reported,
        figures,
        observer_name,
        measured_at,
        Equipment(software_versions=__version__, institution_name=institution_name),
    )
    return NewObject(
        kind=ObjectKind.MEASUREMENT_REPORT,
        sop_class_uid=COMPREHENSIVE_3D_SR_STORAGE,
        transfer_syntax_uid=EXPLICIT_VR_LITTLE_ENDIAN,
        patient_id=measured.photo.patient_id,
        operator_id=observer_id,
        taken=TakenAt(measured_at, TakenAtSource.SERVER),
        place=filing.in_study(
            measured.photo.study_id,
            filing.SeriesPurpose.MEASUREMENTS,
            key=str(measured.photo.study_id),
        ),
        build=build,
        description=f"{finding.label}: {measurement.area_cm2:.2f} cm²",
        audit_details={
            "finding_id": finding.id,
            "photo": measured.photo.sop_instance_uid,
        },
    )


def _build(
    photo: Dataset,
    finding: ReportedFinding,
    figures: ReportedFigures,
    observer_name: str,
    measured_at: datetime,
    equipment: Equipment,
    placement: Placement,
) -> FileDataset:
    return build_measurement_report(
        photo=photo,
        finding=finding,
        figures=figures,
        observer_name=observer_name,
        measured_at=measured_at,
        sop_instance_uid=placement.sop_instance_uid,
        series_instance_uid=placement.series.series_instance_uid,
        series_number=placement.series.series_number,
        instance_number=placement.instance_number,
        equipment=equipment,
        algorithm_version=__version__,
    )
