"""Measuring a traced outline: marker, plane, figures, or a refusal that says why.

A refusal is never a figure: a marker that is missing, too small in the frame to locate
precisely, or seen so obliquely that the error is no longer bounded gives no measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pointcare.measurement import geometry
from pointcare.measurement.detection import DetectedMarker, detect_markers
from pointcare.measurement.marker import DEFAULT_MARKER, MarkerSpec
from pointcare.measurement.pose import marker_pose

MAX_TILT_DEG = 30.0
"""The steepest view measured. On the marker's plane the geometry stays accurate well beyond it;
a sticker a few degrees off the wound's plane (curved skin) does not: the benchmark
(``make bench-measure``, docs/wound-measurement.md) shows that error growing with the tilt."""
MIN_MARKER_SIDE_PX = 64.0
"""The smallest marker side, in photo pixels, that the benchmark's size sweep keeps within
bounds (smaller markers are found less often and their corners are not trusted)."""


class RefusalReason(StrEnum):
    MARKER_MISSING = "marker-missing"
    MARKER_TOO_SMALL = "marker-too-small"
    TILT_TOO_STEEP = "tilt-too-steep"


class MeasurementRefused(ValueError):
    """The photo cannot be measured; ``reason`` says why, the message what to do."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    max_tilt_deg: float = MAX_TILT_DEG
    min_marker_side_px: float = MIN_MARKER_SIDE_PX


@dataclass(frozen=True, slots=True)
class MarkerView:
    """The marker a measurement is calibrated by, as seen in the photo."""

    marker_id: int
    corners_px: geometry.Points
    side_px: float
    """Its shortest side in the photo."""
    tilt_deg: float
    image_to_plane: geometry.Homography
    """Photo pixels to millimetres in the marker's plane."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """A traced outline's figures in the marker's plane (centimetres)."""

    area_cm2: float
    length_cm: float
    width_cm: float
    perimeter_cm: float
    outline_px: geometry.Points
    length_axis_px: geometry.Points
    """(2, 2): the two outline points the length joins, in photo pixels."""
    marker: MarkerView


def locate_marker(
    grey: NDArray[np.uint8],
    *,
    near: tuple[float, float] | None = None,
    spec: MarkerSpec = DEFAULT_MARKER,
    limits: Limits = Limits(),
) -> MarkerView:
    """The marker to calibrate by (the one nearest ``near`` when several are in the photo), or
    ``MeasurementRefused``."""
    found = detect_markers(grey, spec)
    if not found:
        raise MeasurementRefused(
            RefusalReason.MARKER_MISSING,
            "No calibration marker was found in this photo. Place a Pointcare marker sticker "
            "flat beside the wound, with the whole sticker in the frame, and take the photo again.",
        )
    marker = _nearest(found, near) if near is not None else max(found, key=_size)
    side = marker.shortest_side_px
    if side < limits.min_marker_side_px:
        raise MeasurementRefused(
            RefusalReason.MARKER_TOO_SMALL,
            f"The marker is too small in the photo ({side:.0f} pixels across; at least "
            f"{limits.min_marker_side_px:.0f} are needed). Move closer and take the photo again.",
        )
    height, width = grey.shape
    plane_to_image = geometry.homography(spec.corners_mm(), marker.corners)
    pose = marker_pose(spec.corners_mm(), marker.corners, width=width, height=height)
    if pose.tilt_deg > limits.max_tilt_deg:
        raise MeasurementRefused(
            RefusalReason.TILT_TOO_STEEP,
            f"The photo was taken too obliquely (the marker is tilted {pose.tilt_deg:.0f}°; at "
            f"most {limits.max_tilt_deg:.0f}° keeps the measurement accurate). Take the photo "
            "again from straight above the wound.",
        )
    return MarkerView(
        marker_id=marker.marker_id,
        corners_px=marker.corners,
        side_px=side,
        tilt_deg=pose.tilt_deg,
        image_to_plane=np.asarray(np.linalg.inv(plane_to_image), dtype=np.float64),
    )


def measure_outline(
    grey: NDArray[np.uint8],
    outline: ArrayLike,
    *,
    spec: MarkerSpec = DEFAULT_MARKER,
    limits: Limits = Limits(),
) -> Measurement:
    """The figures of ``outline`` (photo pixels) traced on the greyscale photo ``grey``.

    ``ValueError`` for an outline that is not a simple polygon inside the photo;
    ``MeasurementRefused`` when the photo cannot be measured.
    """
    height, width = grey.shape
    points = geometry.check_outline(outline, width=width, height=height)
    centre = points.mean(axis=0)
    marker = locate_marker(
        grey, near=(float(centre[0]), float(centre[1])), spec=spec, limits=limits
    )
    return measure_with(marker, points)


def measure_with(marker: MarkerView, outline_px: geometry.Points) -> Measurement:
    """The figures of a checked outline in the plane of an already located marker."""
    try:
        in_plane = geometry.apply(marker.image_to_plane, outline_px)
    except ValueError as error:
        raise ValueError("the outline reaches beyond the marker's plane in the photo") from error
    figures = geometry.figures(in_plane)
    ends_mm = np.asarray(figures.length_axis)
    plane_to_image = np.asarray(np.linalg.inv(marker.image_to_plane), dtype=np.float64)
    return Measurement(
        area_cm2=figures.area / 100,
        length_cm=figures.length / 10,
        width_cm=figures.width / 10,
        perimeter_cm=figures.perimeter / 10,
        outline_px=outline_px,
        length_axis_px=geometry.apply(plane_to_image, ends_mm),
        marker=marker,
    )


def _size(marker: DetectedMarker) -> float:
    return marker.shortest_side_px


def _nearest(found: list[DetectedMarker], point: tuple[float, float]) -> DetectedMarker:
    target = np.asarray(point)
    return min(found, key=lambda m: float(np.linalg.norm(np.asarray(m.centre) - target)))
