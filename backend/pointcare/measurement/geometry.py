"""Plane geometry of a traced outline: the mapping to the marker's plane and the figures a wound
chart records (area, length, width, perimeter).

Length is the longest diameter (the greatest distance between two points of the outline) and
width the outline's extent perpendicular to it, as wound-care charts measure them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

Points = NDArray[np.float64]
"""An (N, 2) array of x, y coordinates."""
Homography = NDArray[np.float64]
"""A 3 x 3 projective mapping of homogeneous 2-D points."""

MAX_OUTLINE_POINTS = 5000
"""More vertices than a hand traces at any zoom; bounds the self-crossing check's work."""


@dataclass(frozen=True, slots=True)
class Figures:
    """An outline's figures in the plane's units (millimetres for the marker's plane)."""

    area: float
    length: float
    width: float
    perimeter: float
    length_axis: tuple[tuple[float, float], tuple[float, float]]
    """The two outline points the length is measured between."""


def as_points(values: ArrayLike) -> Points:
    """``values`` as an (N, 2) float array, or ``ValueError``."""
    points = np.asarray(values, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be pairs of x, y coordinates, not shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("points must be finite numbers")
    return points


def homography(source: ArrayLike, target: ArrayLike) -> Homography:
    """The projective mapping that takes ``source`` points to ``target`` points (four or more
    pairs, in general position; least squares beyond four)."""
    src, dst = as_points(source), as_points(target)
    if src.shape != dst.shape or len(src) < 4:
        raise ValueError("a homography needs at least four pairs of points")
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None or not np.isfinite(matrix).all():
        raise ValueError("the points do not determine a homography (three are in a line)")
    return np.asarray(matrix, dtype=np.float64)


def apply(matrix: Homography, points: ArrayLike) -> Points:
    """``points`` mapped by ``matrix``; ``ValueError`` for a point mapped to infinity (one on
    or beyond the plane's horizon in the photo)."""
    pts = as_points(points)
    homogeneous = np.column_stack([pts, np.ones(len(pts))]) @ matrix.T
    w = homogeneous[:, 2]
    if np.any(w <= 1e-12 * np.abs(homogeneous[:, :2]).max(axis=1, initial=1.0)):
        raise ValueError("a point lies on or beyond the plane's horizon")
    return homogeneous[:, :2] / w[:, None]


def check_outline(points: ArrayLike, *, width: int, height: int) -> Points:
    """A traced outline as a simple polygon inside a ``width`` x ``height`` image, or
    ``ValueError`` saying what is wrong with it."""
    pts = as_points(points)
    if len(pts) > 1 and np.array_equal(pts[0], pts[-1]):
        pts = pts[:-1]  # a closed ring repeats its first point
    if len(pts) < 3:
        raise ValueError("an outline needs at least 3 points")
    if len(pts) > MAX_OUTLINE_POINTS:
        raise ValueError(f"an outline has at most {MAX_OUTLINE_POINTS} points, not {len(pts)}")
    if (pts < 0).any() or (pts[:, 0] > width).any() or (pts[:, 1] > height).any():
        raise ValueError(f"every point of the outline must lie inside the {width} x {height} image")
    if crosses_itself(pts):
        raise ValueError("the outline crosses itself; trace it as one loop")
    if polygon_area(pts) < 1.0:
        raise ValueError("the outline encloses no area (less than one pixel)")
    return pts


def polygon_area(points: Points) -> float:
    """The area enclosed by a simple polygon (shoelace formula)."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def perimeter(points: Points) -> float:
    """Length of the closed polygon's boundary."""
    return float(np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1).sum())


def crosses_itself(points: Points) -> bool:
    """True when two non-adjacent edges of the closed polygon intersect."""
    a, b = points, np.roll(points, -1, axis=0)
    n = len(points)
    for i in range(n - 2):
        # Edges after i + 1, sparing the one that shares i's first point when closing the ring.
        stop = n - 1 if i == 0 else n
        j = np.arange(i + 2, stop)
        if j.size and _segments_cross(a[i], b[i], a[j], b[j]).any():
            return True
    return False


def _segments_cross(p: Points, q: Points, r: Points, s: Points) -> NDArray[np.bool_]:
    def orient(o: Points, u: Points, v: Points) -> NDArray[np.float64]:
        return np.asarray(
            (u[..., 0] - o[..., 0]) * (v[..., 1] - o[..., 1])
            - (u[..., 1] - o[..., 1]) * (v[..., 0] - o[..., 0])
        )

    d1, d2 = orient(r, s, p), orient(r, s, q)
    d3, d4 = orient(p, q, r), orient(p, q, s)
    return np.asarray(((d1 > 0) != (d2 > 0)) & ((d3 > 0) != (d4 > 0)) & (d1 * d2 != 0))


PAIR_ROWS = 128
"""Hull vertices compared with all the others at once by ``_farthest_pair``."""


def _farthest_pair(hull: Points) -> tuple[int, int, float]:
    """The two hull vertices farthest apart (the longest diameter joins two of them), and their
    squared distance. Every pair is compared, a block of rows at a time: a convex outline of
    ``MAX_OUTLINE_POINTS`` has as many hull vertices, and all its pairs at once would take
    600 MB."""
    best = (0, 0, -1.0)
    for start in range(0, len(hull), PAIR_ROWS):
        gaps = hull[start : start + PAIR_ROWS, None, :] - hull[None, :, :]
        squared = (gaps**2).sum(axis=2)
        i, j = np.unravel_index(int(np.argmax(squared)), squared.shape)
        if squared[i, j] > best[2]:  # the first of equals, as one comparison of all would pick
            best = (start + int(i), int(j), float(squared[i, j]))
    return best


def figures(points: Points) -> Figures:
    """Area, length (longest diameter), width (perpendicular extent) and perimeter of a simple
    polygon, in the units of its coordinates."""
    # convexHull works in single precision: take its vertex indices, keep our doubles.
    hull = points[cv2.convexHull(points.astype(np.float32), returnPoints=False).ravel()]
    i, j, squared = _farthest_pair(hull)
    length = float(np.sqrt(squared))
    axis = (hull[j] - hull[i]) / length
    normal = np.array([-axis[1], axis[0]])
    across = hull @ normal
    return Figures(
        area=polygon_area(points),
        length=length,
        width=float(across.max() - across.min()),
        perimeter=perimeter(points),
        length_axis=(
            (float(hull[i][0]), float(hull[i][1])),
            (float(hull[j][0]), float(hull[j][1])),
        ),
    )
