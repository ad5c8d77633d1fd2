from __future__ import annotations

import pytest

from pointcare.measurement.marker import DEFAULT_MARKER
from pointcare.measurement.pose import marker_pose
from tests.support.wound_scenes import Camera, project, viewing_angle


@pytest.mark.parametrize("tilt", [0.0, 10.0, 25.0, 40.0, 55.0])
@pytest.mark.parametrize("focal_share", [0.6, 0.75, 1.1])
def test_tilt_from_exact_corners(tilt: float, focal_share: float) -> None:
    """With exact corners the tilt comes out whatever the lens: the focal length is estimated
    from the marker when it shows perspective, and matters little when it does not."""
    cam = Camera(4000, 3000, focal_share * 4000, tilt, 70.0, 15.0, 300.0, (10.0, -5.0))
    matrix = cam.plane_to_image()
    corners = project(matrix, DEFAULT_MARKER.corners_mm())
    pose = marker_pose(DEFAULT_MARKER.corners_mm(), corners, width=4000, height=3000)
    truth = viewing_angle(matrix, cam.focal, 4000, 3000, (0.0, 0.0))
    assert pose.tilt_deg == pytest.approx(truth, abs=1.0)
    if tilt >= 25:
        assert pose.focal_px == pytest.approx(cam.focal, rel=0.05)
