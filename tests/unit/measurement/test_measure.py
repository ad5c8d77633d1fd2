"""Measurements of rendered scenes whose outline and marker are known exactly."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pointcare.measurement.measure import (
    Limits,
    MeasurementRefused,
    RefusalReason,
    measure_outline,
)
from tests.support.wound_scenes import Scene, ellipse, render, viewing_angle
from tests.unit.measurement.conftest import FOCAL, HEIGHT, WIDTH, WOUND, camera


def grey(scene: Scene) -> np.ndarray:
    return cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("scene_name", ["face_on", "tilted"])
def test_figures_of_a_traced_ellipse(scene_name: str, request: pytest.FixtureRequest) -> None:
    scene: Scene = request.getfixturevalue(scene_name)
    measured = measure_outline(grey(scene), scene.outline_px)
    assert measured.area_cm2 == pytest.approx(math.pi * 1.5 * 0.9, rel=0.01)
    assert measured.area_cm2 == pytest.approx(scene.area_cm2, rel=0.01)
    assert measured.length_cm == pytest.approx(3.0, rel=0.01)
    assert measured.width_cm == pytest.approx(1.8, rel=0.01)
    ramanujan = math.pi * (3 * 2.4 - math.sqrt((3 * 1.5 + 0.9) * (1.5 + 3 * 0.9)))
    assert measured.perimeter_cm == pytest.approx(ramanujan, rel=0.01)
    assert measured.marker.marker_id == 7


def test_the_tilt_is_estimated_from_the_marker(face_on: Scene, tilted: Scene) -> None:
    for scene in (face_on, tilted):
        # The line of sight to the marker, off the optical axis, is what the tilt is about.
        truth = viewing_angle(scene.plane_to_image, FOCAL, WIDTH, HEIGHT, (0.0, 0.0))
        estimate = measure_outline(grey(scene), scene.outline_px).marker.tilt_deg
        assert estimate == pytest.approx(truth, abs=1.5)
    assert measure_outline(grey(face_on), face_on.outline_px).marker.tilt_deg < 10


def test_the_length_axis_joins_the_ellipse_ends_in_the_photo(face_on: Scene) -> None:
    measured = measure_outline(grey(face_on), face_on.outline_px)
    ends = measured.length_axis_px
    truth = face_on.outline_px
    # Each end of the axis is a traced point, and they are the two farthest apart.
    for end in ends:
        assert np.linalg.norm(truth - end, axis=1).min() < 1e-6


def test_no_marker_is_refused(face_on: Scene) -> None:
    image = grey(face_on).copy()
    x0, y0 = np.floor(
        measure_outline(image, face_on.outline_px).marker.corners_px.min(axis=0)
    ).astype(int)
    x1, y1 = np.ceil(
        measure_outline(image, face_on.outline_px).marker.corners_px.max(axis=0)
    ).astype(int)
    image[y0 - 4 : y1 + 4, x0 - 4 : x1 + 4] = 180
    with pytest.raises(MeasurementRefused, match="No calibration marker") as refused:
        measure_outline(image, face_on.outline_px)
    assert refused.value.reason is RefusalReason.MARKER_MISSING


def test_a_marker_too_small_in_the_frame_is_refused(face_on: Scene) -> None:
    with pytest.raises(MeasurementRefused, match="too small") as refused:
        measure_outline(grey(face_on), face_on.outline_px, limits=Limits(min_marker_side_px=500))
    assert refused.value.reason is RefusalReason.MARKER_TOO_SMALL


def test_a_steep_photo_is_refused_not_measured() -> None:
    steep = render(camera(48.0, distance_mm=130.0), WOUND, np.random.default_rng(3), blur_px=0.7)
    with pytest.raises(MeasurementRefused, match="too obliquely") as refused:
        measure_outline(grey(steep), steep.outline_px)
    assert refused.value.reason is RefusalReason.TILT_TOO_STEEP


def test_the_marker_nearest_the_outline_calibrates(face_on: Scene) -> None:
    """Two markers in one photo: the one beside the wound is used (a second sticker may lie on
    another plane, such as the bed sheet)."""
    # A second, smaller wound far from the first, beside the same single marker: still marker 7.
    second = ellipse(4.0, 3.0, (-10.0, 28.0))
    scene = render(camera(0.0), second, np.random.default_rng(4), marker_id=3)
    measured = measure_outline(grey(scene), scene.outline_px)
    assert measured.marker.marker_id == 3
    assert measured.area_cm2 == pytest.approx(math.pi * 0.4 * 0.3, rel=0.02)


def test_an_outline_outside_the_photo_is_a_value_error(face_on: Scene) -> None:
    with pytest.raises(ValueError, match="inside the 1600 x 1200 image"):
        measure_outline(grey(face_on), [[10, 10], [2000, 10], [10, 300]])
