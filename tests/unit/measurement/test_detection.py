from __future__ import annotations

import cv2
import numpy as np
import pytest

from pointcare.measurement.detection import detect_markers
from pointcare.measurement.marker import DEFAULT_MARKER, MarkerSpec
from tests.support.wound_scenes import Scene, project


def truth(scene: Scene) -> np.ndarray:
    return project(scene.plane_to_image, DEFAULT_MARKER.corners_mm())


@pytest.mark.parametrize("scene_name", ["face_on", "tilted"])
def test_corners_are_found_to_a_tenth_of_a_pixel(
    scene_name: str, request: pytest.FixtureRequest
) -> None:
    scene: Scene = request.getfixturevalue(scene_name)
    (marker,) = detect_markers(cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY), DEFAULT_MARKER)
    assert marker.marker_id == scene.marker_id
    assert np.abs(marker.corners - truth(scene)).max() < 0.1


def test_markers_of_other_codes_are_ignored(face_on: Scene) -> None:
    grey = cv2.cvtColor(face_on.image, cv2.COLOR_BGR2GRAY)
    assert detect_markers(grey, MarkerSpec(ids=(1, 2))) == []


def test_only_8_bit_greyscale_is_accepted(face_on: Scene) -> None:
    with pytest.raises(ValueError, match="8-bit greyscale"):
        detect_markers(face_on.image, DEFAULT_MARKER)
