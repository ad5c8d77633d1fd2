from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from pointcare.measurement import geometry

RECTANGLE = np.array([[10.0, 20.0], [50.0, 20.0], [50.0, 50.0], [10.0, 50.0]])


def test_figures_of_a_rectangle_are_exact() -> None:
    figures = geometry.figures(RECTANGLE)
    assert figures.area == pytest.approx(1200.0, abs=1e-9)
    assert figures.perimeter == pytest.approx(140.0, abs=1e-9)
    # The longest diameter is the diagonal; the width across it is twice the triangle's height.
    assert figures.length == pytest.approx(50.0, abs=1e-9)
    assert figures.width == pytest.approx(2 * 1200 / 50, abs=1e-9)
    assert {tuple(p) for p in figures.length_axis} in (
        {(10.0, 20.0), (50.0, 50.0)},
        {(50.0, 20.0), (10.0, 50.0)},
    )


def test_figures_of_a_finely_sampled_ellipse() -> None:
    # As many points as an outline may have; all of them on the hull.
    t = np.linspace(0, 2 * math.pi, geometry.MAX_OUTLINE_POINTS, endpoint=False)
    ellipse = np.column_stack([30 * np.cos(t), 12 * np.sin(t)])
    figures = geometry.figures(ellipse)
    assert figures.area == pytest.approx(math.pi * 30 * 12, rel=1e-6)
    assert figures.length == pytest.approx(60.0, rel=1e-6)
    assert figures.width == pytest.approx(24.0, rel=1e-6)
    ramanujan = math.pi * (3 * 42 - math.sqrt((3 * 30 + 12) * (30 + 3 * 12)))
    assert figures.perimeter == pytest.approx(ramanujan, rel=1e-4)


def test_the_longest_outline_is_measured_in_bounded_memory() -> None:
    t = np.linspace(0, 2 * math.pi, geometry.MAX_OUTLINE_POINTS, endpoint=False)
    circle = np.column_stack([1000 + 900 * np.cos(t), 1000 + 900 * np.sin(t)])
    tracemalloc.start()
    try:
        figures = geometry.figures(circle)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert figures.length == pytest.approx(1800.0)
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB"  # every pair at once: about 600 MB


def test_the_longest_diameter_is_the_first_of_equals_across_row_blocks() -> None:
    # A square's two diagonals are equally long; blocks of rows must pick the same one a
    # single comparison of all pairs would.
    rows = geometry.PAIR_ROWS
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    hull = np.concatenate([square, np.full((rows, 2), 5.0)])  # inner points fill the first block
    hull = np.concatenate([hull[4:], hull[:4]])  # the corners in the second block
    i, j, squared = geometry._farthest_pair(hull)
    assert squared == pytest.approx(200.0)
    assert (i, j) == (rows, rows + 2)


def test_a_concave_outline_keeps_its_area_and_its_hull_length() -> None:
    notch = np.array([[0, 0], [40, 0], [40, 30], [20, 10], [0, 30]], dtype=float)
    figures = geometry.figures(notch)
    assert figures.area == pytest.approx(40 * 30 - 40 * 20 / 2)
    assert figures.length == pytest.approx(50.0)


def test_homography_maps_the_four_corners_and_straight_lines() -> None:
    square = [[0, 0], [20, 0], [20, 20], [0, 20]]
    seen = [[100, 120], [330, 140], [310, 380], [90, 350]]
    matrix = geometry.homography(square, seen)
    assert geometry.apply(matrix, square) == pytest.approx(np.asarray(seen, float), abs=1e-6)
    # Three collinear plane points stay collinear in the photo.
    a, b, c = geometry.apply(matrix, [[0, 5], [10, 5], [20, 5]])
    (ux, uy), (vx, vy) = b - a, c - a
    assert ux * vy - uy * vx == pytest.approx(0.0, abs=1e-6)
    back = geometry.apply(np.linalg.inv(matrix), seen)
    assert back == pytest.approx(np.asarray(square, float), abs=1e-6)


def test_a_point_beyond_the_horizon_is_refused() -> None:
    # Plane y = 1 maps to infinity (the horizon); beyond it the sign of w flips.
    matrix = np.array([[1.0, 0, 0], [0, 1, 0], [0, -1, 1]])
    with pytest.raises(ValueError, match="horizon"):
        geometry.apply(matrix, [[0.0, 2.0]])


@pytest.mark.parametrize(
    ("outline", "message"),
    [
        ([[0, 0], [10, 10]], "at least 3 points"),
        ([[0, 0], [10, 10], [10, 0], [0, 10]], "crosses itself"),
        ([[0, 0], [10, 0], [20, 0]], "no area"),
        ([[0, 0], [700, 0], [700, 10]], "inside the 640 x 480 image"),
        ([[0, 0], [float("nan"), 0], [5, 5]], "finite"),
        ([[1, 2, 3]], "pairs"),
    ],
)
def test_bad_outlines_are_refused_with_the_reason(outline: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        geometry.check_outline(outline, width=640, height=480)


def test_a_closed_ring_is_accepted_without_its_repeated_point() -> None:
    ring = [*RECTANGLE.tolist(), RECTANGLE[0].tolist()]
    assert len(geometry.check_outline(ring, width=640, height=480)) == 4
