"""Finding the calibration markers in a photo, with their corners to a fraction of a pixel.

ArUco finds the markers on a reduced copy of the photo (a 12 MP photo is ten times slower to
threshold at full size, and a marker too small to be found there is too small to measure with
anyway). Each corner is then refined at full resolution: the marker's four outer edges are
straight lines in any perspective view, so each is located along many short profiles across
it (the centroid of the intensity gradient, which symmetric blur does not move), a line is
fitted to each, and the corners are the lines' intersections. Fitting edges uses every pixel
along them; refining the corner points themselves (``cornerSubPix``) sees only a small window
around each and is pulled inwards by blur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pointcare.measurement.geometry import Points
from pointcare.measurement.marker import MODULES, MarkerSpec, dictionary

DETECTION_LONG_SIDE = 1600
"""Pixels along the longer side of the copy ArUco searches."""
_REFINE_ROUNDS = 2
_MAX_CORNER_SHIFT = 0.25
"""A refined corner further than this share of a cell from ArUco's is a bad fit: keep ArUco's."""


@dataclass(frozen=True, slots=True)
class DetectedMarker:
    marker_id: int
    corners: Points
    """(4, 2) corners in full-resolution pixels, in ArUco's order."""

    @property
    def shortest_side_px(self) -> float:
        sides = np.linalg.norm(np.roll(self.corners, -1, axis=0) - self.corners, axis=1)
        return float(sides.min())

    @property
    def centre(self) -> tuple[float, float]:
        x, y = self.corners.mean(axis=0)
        return float(x), float(y)


def _detector() -> cv2.aruco.ArucoDetector:
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    return cv2.aruco.ArucoDetector(dictionary(), parameters)


def detect_markers(grey: NDArray[np.uint8], spec: MarkerSpec) -> list[DetectedMarker]:
    """Every marker of ``spec`` in the greyscale photo ``grey``, corners refined."""
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError("markers are detected in an 8-bit greyscale image")
    height, width = grey.shape
    factor = min(1.0, DETECTION_LONG_SIDE / max(height, width))
    small = (
        grey
        if factor == 1.0
        else cv2.resize(
            grey,
            (round(width * factor), round(height * factor)),
            interpolation=cv2.INTER_AREA,
        )
    )
    corners, ids, _ = _detector().detectMarkers(small)
    found: list[DetectedMarker] = []
    if ids is None or len(ids) == 0:  # OpenCV answers None when it finds nothing
        return found
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        if int(marker_id) not in spec.ids:
            continue
        # Pixel centres: (i + 0.5) / factor - 0.5 maps a reduced pixel to full resolution.
        coarse = (quad.reshape(4, 2).astype(np.float64) + 0.5) / factor - 0.5
        found.append(DetectedMarker(int(marker_id), refine_corners(grey, coarse)))
    return found


def refine_corners(grey: NDArray[np.uint8], corners: Points) -> Points:
    """``corners`` of a marker (dark square on a light ground) moved to the intersections of its
    edges as located at full resolution."""
    refined = corners
    for _ in range(_REFINE_ROUNDS):
        lines = [_edge_line(grey, refined[i], refined[(i + 1) % 4]) for i in range(4)]
        if any(line is None for line in lines):
            return corners
        try:
            refined = np.array([_intersect(lines[i - 1], lines[i]) for i in range(4)])  # type: ignore[arg-type]
        except ValueError:
            return corners
    cell = float(np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1).min()) / MODULES
    if np.linalg.norm(refined - corners, axis=1).max() > _MAX_CORNER_SHIFT * cell + 1.0:
        return corners
    return refined


Line = tuple[NDArray[np.float64], NDArray[np.float64]]
"""A point on the line and its unit direction."""


def _edge_line(
    grey: NDArray[np.uint8], start: NDArray[np.float64], end: NDArray[np.float64]
) -> Line | None:
    edge = end - start
    length = float(np.linalg.norm(edge))
    if length < 8:
        return None
    along = edge / length
    # ArUco lists corners clockwise in the image, so the marker lies to the right of each edge.
    inward = np.array([-along[1], along[0]])
    cell = length / MODULES
    half = float(np.clip(0.45 * cell, 3.0, 12.0))
    step = half / 16
    offsets = np.arange(-half, half + step / 2, step)
    # Stay a third of a cell away from the corners, where the neighbouring edge bends the profile.
    count = int(np.clip(length / 2, 12, 240))
    ts = np.linspace(cell / 3, length - cell / 3, count)
    centres = start + ts[:, None] * along
    samples = centres[:, None, :] + offsets[None, :, None] * inward
    profile = cv2.remap(
        grey.astype(np.float32),
        samples[..., 0].astype(np.float32),
        samples[..., 1].astype(np.float32),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    # Light outside, dark inside: the intensity falls along `inward`; keep only that fall.
    fall = np.clip(-np.diff(profile, axis=1), 0, None)
    middle = (offsets[:-1] + offsets[1:]) / 2
    weight = fall.sum(axis=1)
    usable = weight > 1e-3 * max(float(weight.max()), 1e-9)
    if usable.sum() < 6:
        return None
    shift = (fall[usable] * middle).sum(axis=1) / weight[usable]
    points = centres[usable] + shift[:, None] * inward
    vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    return np.array([x0, y0], dtype=np.float64), np.array([vx, vy], dtype=np.float64)


def _intersect(first: Line, second: Line) -> NDArray[np.float64]:
    (p, u), (q, v) = first, second
    matrix = np.column_stack([u, -v])
    if abs(np.linalg.det(matrix)) < math.sin(math.radians(5)):
        raise ValueError("marker edges are nearly parallel")
    t, _ = np.linalg.solve(matrix, q - p)
    return np.asarray(p + t * u, dtype=np.float64)
