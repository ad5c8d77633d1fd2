from __future__ import annotations

import cv2
import numpy as np
import pytest

from pointcare.measurement import geometry
from pointcare.measurement.suggest import suggest_outline
from tests.support.wound_scenes import Scene


def test_grabcut_finds_the_wound_inside_a_rough_loop(face_on: Scene) -> None:
    truth = face_on.outline_px
    centre = truth.mean(axis=0)
    rng = np.random.default_rng(5)
    loop = (centre + (truth - centre) * 1.35 + rng.normal(0, 2, truth.shape))[::24]
    suggested = suggest_outline(face_on.image, loop)
    assert geometry.polygon_area(suggested) == pytest.approx(geometry.polygon_area(truth), rel=0.06)
    assert np.linalg.norm(centroid(suggested) - centroid(truth)) < 3


def centroid(polygon: np.ndarray) -> np.ndarray:
    moments = cv2.moments(polygon.astype(np.float32))
    return np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]])


def test_a_loop_around_plain_skin_suggests_nothing(face_on: Scene) -> None:
    loop = [[100, 100], [220, 100], [220, 220], [100, 220]]
    with pytest.raises(ValueError, match="stands out"):
        suggest_outline(face_on.image, loop)


def test_a_tiny_loop_is_refused(face_on: Scene) -> None:
    with pytest.raises(ValueError, match="too small"):
        suggest_outline(face_on.image, [[10, 10], [12, 10], [11, 12]])
