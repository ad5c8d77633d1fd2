"""Rendered scenes shared by the measurement tests (rendering is the slow part)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.wound_scenes import Camera, Scene, ellipse, render

WIDTH, HEIGHT, FOCAL = 1600, 1200, 1200.0


def camera(
    tilt_deg: float = 0.0,
    *,
    distance_mm: float = 160.0,
    roll_deg: float = 20.0,
    azimuth_deg: float = 35.0,
) -> Camera:
    return Camera(WIDTH, HEIGHT, FOCAL, tilt_deg, azimuth_deg, roll_deg, distance_mm, (20.0, 0.0))


WOUND = ellipse(15.0, 9.0, (42.0, 5.0), angle_deg=30.0)
"""An ellipse of 15 x 9 mm semi-axes: 4.2412 cm², 3.0 cm long and 1.8 cm wide."""


@pytest.fixture(scope="package")
def face_on() -> Scene:
    return render(
        camera(0.0), WOUND, np.random.default_rng(1), blur_px=0.7, noise=1.5, jpeg_quality=92
    )


@pytest.fixture(scope="package")
def tilted() -> Scene:
    return render(
        camera(22.0), WOUND, np.random.default_rng(2), blur_px=0.7, noise=1.5, jpeg_quality=92
    )
