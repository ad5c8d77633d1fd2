"""Measuring a stored photo: the traced outline's figures from the marker in the photo, and the
measurement kept for the photo's finding.

The photo is read as stored (the archive's JPEG, already upright), so an outline's pixel
coordinates are those of the stored object, as the measurement report references them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.archive.reader import InstanceReader, ref_of
from pointcare.auth.principal import Principal
from pointcare.capture import measurements
from pointcare.capture.pipeline import Stored
from pointcare.corrections.visibility import not_rejected
from pointcare.db.engine import Database
from pointcare.db.models import Finding, Instance, Patient, WoundMeasurement
from pointcare.db.types import utcnow
from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.errors import InvalidInput, NotMeasurable
from pointcare.export.report import MeasurementLine
from pointcare.findings.service import patient_photo
from pointcare.measurement.measure import Measurement, MeasurementRefused, measure_outline
from pointcare.measurement.suggest import suggest_outline
from pointcare.runtime import Runtime

log = logging.getLogger(__name__)


def _stored_photo(
    db: Database,
    reader: InstanceReader,
    principal: Principal,
    patient: Patient,
    uid: str,
    flags: int,
) -> NDArray[np.uint8]:
    """The patient's stored photo, decoded (``flags``: greyscale or colour)."""
    with db.session() as session:
        photo = _photo(session, patient, uid)
        glass.require_unsealed(session, principal.user_id, [photo.sop_instance_uid])
        source = reader.part10(ref_of(photo), photo.storage_path)
    pixels = cv2.imdecode(np.frombuffer(first_jpeg_frame(source), np.uint8), flags)
    if pixels is None:
        raise NotMeasurable(
            "The stored photo could not be decoded.", errors={"reason": "undecodable"}
        )
    return np.asarray(pixels, np.uint8)


def suggest_for_photo(
    db: Database,
    reader: InstanceReader,
    principal: Principal,
    patient: Patient,
    sop_instance_uid: str,
    loop: list[list[float]],
) -> list[list[float]]:
    """An outline GrabCut finds inside ``loop``, a rough stroke around the wound."""
    image = _stored_photo(db, reader, principal, patient, sop_instance_uid, cv2.IMREAD_COLOR)
    try:
        outline = suggest_outline(image, loop)
    except ValueError as error:
        raise InvalidInput(
            f"No outline could be suggested: {error}.", errors={"loop": str(error)}
        ) from None
    return [[round(float(x), 1), round(float(y), 1)] for x, y in outline]


def measure_photo(
    db: Database,
    reader: InstanceReader,
    principal: Principal,
    patient: Patient,
    sop_instance_uid: str,
    outline: list[list[float]],
) -> Measurement:
    """The figures of ``outline`` on the patient's stored photo; ``NotMeasurable`` with the
    reason when the photo cannot be measured, ``InvalidInput`` for a bad outline."""
    grey = _stored_photo(db, reader, principal, patient, sop_instance_uid, cv2.IMREAD_GRAYSCALE)
    try:
        return measure_outline(grey, outline)
    except MeasurementRefused as refused:
        raise NotMeasurable(str(refused), errors={"reason": refused.reason.value}) from None
    except ValueError as error:
        raise InvalidInput(
            f"The outline cannot be measured: {error}.", errors={"outline": str(error)}
        ) from None


@dataclass(frozen=True, slots=True)
class Recorded:
    """A measurement kept for its finding, and its measurement report in the archive."""

    measurement_id: int
    report: Stored


def record_measurement(
    runtime: Runtime,
    actor: audit.Actor,
    principal: Principal,
    patient: Patient,
    sop_instance_uid: str,
    measurement: Measurement,
) -> Recorded:
    """Keep ``measurement`` for the finding the photo is filed under (``InvalidInput`` when it
    has none: a measurement belongs to a finding), stored as a measurement report beside the
    photo; the report and its row are written in one transaction, or neither is."""
    with runtime.db.session() as session:
        photo = _photo(session, patient, sop_instance_uid)
        finding = session.get(Finding, photo.finding_id) if photo.finding_id else None
        if finding is None:
            raise InvalidInput(
                "Link this photo to a wound or lesion before saving its measurement.",
                errors={"finding": "the photo is not linked to a finding"},
            )
        source = runtime.instances.part10(ref_of(photo), photo.storage_path)
    measured_at = utcnow()
    observer = principal.dicom_name
    if "^" not in observer:  # one unmarked PN component is ambiguous: mark it the family name
        observer += "^"
    new = measurements.prepare(
        measurements.MeasuredPhoto(
            photo=photo, header=measurements.photo_header(source), finding=finding
        ),
        measurement,
        observer_id=principal.user_id,
        observer_name=observer,
        measured_at=measured_at,
        institution_name=runtime.settings.institution_name,
    )
    row = WoundMeasurement(
        finding_id=finding.id,
        photo_id=photo.id,
        area_cm2=measurement.area_cm2,
        length_cm=measurement.length_cm,
        width_cm=measurement.width_cm,
        perimeter_cm=measurement.perimeter_cm,
        tilt_deg=measurement.marker.tilt_deg,
        marker_side_px=measurement.marker.side_px,
        outline=[[float(x), float(y)] for x, y in measurement.outline_px],
        measured_by_id=principal.user_id,
        measured_at=measured_at,
    )

    def keep(session: Session, stored: list[Instance]) -> None:
        [report] = stored
        row.report_id = report.id
        session.add(row)
        session.flush()
        session.expunge(row)

    report = runtime.objects.store(new, actor, within=keep)
    log.info(
        "measurement recorded id=%s finding_id=%s photo=%s report=%s",
        row.id,
        finding.id,
        sop_instance_uid,
        report.sop_instance_uid,
    )
    return Recorded(measurement_id=row.id, report=report)


def measurement_lines(session: Session, finding: Finding) -> list[MeasurementLine]:
    """A finding's measurements as the report and the API show them, oldest photo first."""
    return [
        MeasurementLine(
            measurement_id=row.id,
            sop_instance_uid=row.photo.sop_instance_uid,
            report_sop_instance_uid=row.report.sop_instance_uid,
            photo_taken=row.photo.captured_at,
            area_cm2=row.area_cm2,
            length_cm=row.length_cm,
            width_cm=row.width_cm,
            perimeter_cm=row.perimeter_cm,
            tilt_deg=row.tilt_deg,
            measured_by=row.measured_by.display_name,
            measured_at=row.measured_at,
        )
        for row in finding_measurements(session, finding)
    ]


def finding_measurements(session: Session, finding: Finding) -> list[WoundMeasurement]:
    """A finding's measurements on photos still in the record, oldest photo first."""
    return list(
        session.scalars(
            select(WoundMeasurement)
            .join(Instance, WoundMeasurement.photo_id == Instance.id)
            .where(WoundMeasurement.finding_id == finding.id, not_rejected())
            .order_by(Instance.captured_at, WoundMeasurement.measured_at)
        )
    )


def _photo(session: Session, patient: Patient, sop_instance_uid: str) -> Instance:
    photo = patient_photo(session, patient, sop_instance_uid)
    # The reader needs the photo's study and series UIDs after the session closes.
    _ = photo.study.study_instance_uid, photo.series.series_instance_uid
    return photo
