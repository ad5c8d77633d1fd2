"""How the marker's plane faces the camera: the tilt, from the marker's corners alone.

A photo carries no trustworthy camera calibration (the stored photo has no EXIF, and phones
switch lenses), so the focal length is estimated from the marker itself: a square's two sides
are perpendicular and equally long, which gives two equations in the focal length once the
principal point is taken at the image centre (Zhang's constraints). How much those equations
say depends on how much perspective the marker shows: little when it is small or seen face on.
So the estimate is weighed against a phone's typical focal length by its precision, found by
moving the corners by their typical localisation error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pointcare.measurement.geometry import Homography, Points, homography

TYPICAL_FOCAL = 0.75
"""A phone's main camera (about 26 mm full-frame equivalent), as a fraction of the image's
longer side."""
FOCAL_RANGE = (0.35, 2.2)
"""Ultra-wide (13 mm equivalent) to telephoto (77 mm), as fractions of the longer side."""
_PRIOR_SPREAD = 1.0
"""Spread of 1 / focal² over the phones' lenses, around the typical lens's 1.8."""
CORNER_ERROR_PX = 0.1
"""Typical error of a refined corner (the benchmark measures it)."""
_PROBES = (
    (1, 0, 0, 0, 0, 0, 0, 0),
    (0, 1, 0, 0, 0, 0, 0, 0),
    (0, 0, 1, 0, 0, 0, 0, 0),
    (0, 0, 0, 1, 0, 0, 0, 0),
    (0, 0, 0, 0, 1, 0, 0, 0),
    (0, 0, 0, 0, 0, 1, 0, 0),
    (0, 0, 0, 0, 0, 0, 1, 0),
    (0, 0, 0, 0, 0, 0, 0, 1),
)
"""Each corner coordinate moved alone: the estimate's sensitivity to each."""


@dataclass(frozen=True, slots=True)
class Pose:
    tilt_deg: float
    """Angle between the marker plane's normal and the line of sight to the marker's centre."""
    focal_px: float


def marker_pose(corners_mm: Points, corners_px: Points, *, width: int, height: int) -> Pose:
    """The pose of the marker whose corners ``corners_mm`` (plane, origin at its centre) appear
    at ``corners_px`` in a ``width`` x ``height`` photo."""
    scale = float(max(width, height))
    centre = np.array([width / 2, height / 2])
    normalised = (corners_px - centre) / scale
    h = homography(corners_mm, normalised)
    prior = 1 / TYPICAL_FOCAL**2
    a, b = _constraints(h)
    # How far the corners' typical error moves the equations' residuals at the prior: the
    # equations' noise, against which their information on 1 / focal² is weighed.
    step = CORNER_ERROR_PX / scale
    noise = 0.0
    for probe in _PROBES:
        moved = normalised + step * np.asarray(probe, dtype=np.float64).reshape(4, 2)
        a_moved, b_moved = _constraints(homography(corners_mm, moved))
        noise += float(np.sum((a_moved * prior + b_moved - a * prior - b) ** 2)) / 2
    noise = max(noise, 1e-30)
    # Least squares on a u + b = 0 with the prior u = 1 / TYPICAL_FOCAL² as one more equation.
    fused = (-float(a @ b) / noise + prior / _PRIOR_SPREAD**2) / (
        float(a @ a) / noise + 1 / _PRIOR_SPREAD**2
    )
    low, high = FOCAL_RANGE
    focal = min(max(1 / math.sqrt(max(fused, 1e-12)), low), high)
    return Pose(tilt_deg=_tilt(h, focal), focal_px=focal * scale)


def _constraints(h: Homography) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the two constraints a * (1 / focal²) + b = 0 on the normalised homography."""
    h = h / np.linalg.norm(h[:2, :2])
    (h11, h12), (h21, h22), (h31, h32) = h[0, :2], h[1, :2], h[2, :2]
    a = np.array([h11 * h12 + h21 * h22, h11**2 + h21**2 - h12**2 - h22**2])
    b = np.array([h31 * h32, h31**2 - h32**2])
    return a, b


def _tilt(h: Homography, focal: float) -> float:
    camera = np.diag([1 / focal, 1 / focal, 1.0]) @ h
    normal = np.cross(camera[:, 0], camera[:, 1])
    sight = camera[:, 2]
    cosine = abs(float(normal @ sight)) / (np.linalg.norm(normal) * np.linalg.norm(sight))
    return math.degrees(math.acos(min(1.0, float(cosine))))
