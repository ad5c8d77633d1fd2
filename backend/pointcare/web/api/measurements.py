"""The measurements API (tag ``measurements``): the printable marker sheet, and measuring a
traced outline on a stored photo (the tracing tool of the photo page uses the same endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.export.report import MeasurementLine
from pointcare.findings.measuring import (
    measure_photo,
    measurement_lines,
    record_measurement,
    suggest_for_photo,
)
from pointcare.findings.service import get_finding
from pointcare.measurement.marker import DICTIONARY_NAME, MARKER_SIDE_MM
from pointcare.measurement.measure import MAX_TILT_DEG
from pointcare.measurement.sheet import marker_sheet_pdf
from pointcare.runtime import Runtime
from pointcare.web.api.findings import patient_of, read_patient
from pointcare.web.security import REVIEW


@dataclass
class MeasureIn:
    sop_instance_uid: str
    """The stored photo the outline was traced on."""
    outline: list[list[float]]
    """The polygon, ``[[x, y], ...]`` in the stored photo's pixels (origin top left)."""
    record: bool = False
    """Keep the measurement for the finding the photo is linked to."""


@dataclass
class MarkerOut:
    marker_id: int
    dictionary: str
    side_mm: float
    side_px: float
    """The marker's shortest side in the photo."""
    tilt_deg: float
    """Angle between the marker's plane and the line of sight; refused beyond ``max_tilt_deg``."""
    max_tilt_deg: float
    corners: list[list[float]]


@dataclass
class MeasurementOut:
    sop_instance_uid: str
    area_cm2: float
    length_cm: float
    """Longest diameter."""
    width_cm: float
    """Greatest extent perpendicular to the length."""
    perimeter_cm: float
    length_axis: list[list[float]]
    """The two outline points the length joins, in photo pixels."""
    marker: MarkerOut
    measurement_id: int | None
    """Set when the measurement was recorded."""
    report_sop_instance_uid: str | None
    """The measurement report stored when it was recorded (DICOM SR, in the photo's study)."""


@get(
    "/api/v1/measurements/marker-sheet",
    tags=["measurements"],
    media_type="application/pdf",
    sync_to_thread=True,
)
def marker_sheet() -> Response[bytes]:
    """The A4 sheet of calibration stickers to print at 100 % (PDF)."""
    return Response(
        marker_sheet_pdf(),
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="pointcare-markers.pdf"'},
    )


@post(
    "/api/v1/patients/{mrn:str}/measurements",
    tags=["measurements"],
    guards=[REVIEW],
    sync_to_thread=True,
    status_code=200,
)
def measure(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    data: MeasureIn,
    issuer: FromQuery[str | None] = None,
) -> MeasurementOut:
    """Area, length, width and perimeter of an outline traced on a stored photo, from the
    calibration marker in it; 422 with ``errors.reason`` (``marker-missing``,
    ``marker-too-small``, ``tilt-too-steep``) when the photo cannot be measured."""
    patient = patient_of(db, request.user, mrn, issuer)
    measured = measure_photo(
        runtime.db, runtime.instances, request.user, patient, data.sop_instance_uid, data.outline
    )
    recorded = None
    if data.record:
        actor = audit.actor_of(request, request.user)
        recorded = record_measurement(
            runtime, actor, request.user, patient, data.sop_instance_uid, measured
        )
    marker = measured.marker
    return MeasurementOut(
        sop_instance_uid=data.sop_instance_uid,
        area_cm2=round(measured.area_cm2, 3),
        length_cm=round(measured.length_cm, 3),
        width_cm=round(measured.width_cm, 3),
        perimeter_cm=round(measured.perimeter_cm, 3),
        length_axis=[[round(float(x), 2), round(float(y), 2)] for x, y in measured.length_axis_px],
        marker=MarkerOut(
            marker_id=marker.marker_id,
            dictionary=DICTIONARY_NAME,
            side_mm=MARKER_SIDE_MM,
            side_px=round(marker.side_px, 1),
            tilt_deg=round(marker.tilt_deg, 1),
            max_tilt_deg=MAX_TILT_DEG,
            corners=[[round(float(x), 2), round(float(y), 2)] for x, y in marker.corners_px],
        ),
        measurement_id=recorded.measurement_id if recorded else None,
        report_sop_instance_uid=recorded.report.sop_instance_uid if recorded else None,
    )


@dataclass
class SuggestIn:
    sop_instance_uid: str
    loop: list[list[float]]
    """A rough closed stroke around the wound, in the stored photo's pixels."""


@dataclass
class SuggestionOut:
    outline: list[list[float]]


@post(
    "/api/v1/patients/{mrn:str}/measurements/suggestion",
    tags=["measurements"],
    guards=[REVIEW],
    sync_to_thread=True,
    status_code=200,
)
def suggest(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    data: SuggestIn,
    issuer: FromQuery[str | None] = None,
) -> SuggestionOut:
    """A suggested outline (GrabCut) of the wound inside a rough loop; the clinician corrects
    it before measuring."""
    patient = patient_of(db, request.user, mrn, issuer)
    outline = suggest_for_photo(
        runtime.db, runtime.instances, request.user, patient, data.sop_instance_uid, data.loop
    )
    return SuggestionOut(outline)


@get(
    "/api/v1/patients/{mrn:str}/findings/{finding_id:int}/measurements",
    tags=["measurements"],
    guards=[REVIEW],
    sync_to_thread=True,
)
def list_measurements(
    request: Request[Principal, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromPath[str],
    finding_id: FromPath[int],
    issuer: FromQuery[str | None] = None,
) -> list[MeasurementLine]:
    """A finding's recorded measurements, oldest photo first (its healing trend)."""
    patient = read_patient(request, db, runtime, mrn, issuer, what="api measurements")
    return measurement_lines(db, get_finding(db, patient, finding_id))


MEASUREMENT_ROUTES = [marker_sheet, measure, suggest, list_measurements]
