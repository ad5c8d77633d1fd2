"""A finding's area over time as an SVG line chart, rendered on the server.

Colours are presentation attributes, which the page's stylesheet overrides (dark mode) and a
PDF renderer, which knows no stylesheet, takes as they are.

No script and no chart library: the page (and the PDF report) gets plain SVG whose points a
screen reader can read from its title, description and the table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 640, 260
_AXIS = 'class="trend-axis" fill="#474e5c" font-size="12"'
_GRID = 'class="trend-grid" stroke="#d5d9e0"'
_POINT = 'class="trend-point" fill="#ffffff" stroke="#0b57d0" stroke-width="3"'
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    area_cm2: float


def _nice_ceiling(value: float) -> float:
    """The next of 1, 2, 2.5, 5 x 10^n at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10 * power


def area_trend_svg(points: Sequence[TrendPoint], *, label: str) -> str:
    """The chart for ``points`` (any order), oldest on the left; a short message with fewer
    than one point."""
    title = f"Area of {label} over time"
    ordered = sorted(points, key=lambda p: p.at)
    if not ordered:
        return ""
    top = _nice_ceiling(max(p.area_cm2 for p in ordered) * 1.1)
    start, end = ordered[0].at, ordered[-1].at
    span = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(at: datetime) -> float:
        if len(ordered) == 1:
            return _LEFT + plot_w / 2
        return _LEFT + (at - start).total_seconds() / span * plot_w

    def y(area: float) -> float:
        return _TOP + plot_h * (1 - area / top)

    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="trend-title">{escape(title)}</title>',
        '<desc id="trend-desc">'
        + escape("; ".join(f"{p.at:%d %b %Y}: {p.area_cm2:.2f} cm²" for p in ordered))
        + "</desc>",
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line {_GRID} x1="{_LEFT}" x2="{WIDTH - _RIGHT}" '
            f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text {_AXIS} x="{_LEFT - 8}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:g}</text>'
        )
    parts.append(
        f'<text {_AXIS} x="12" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_TOP + plot_h / 2:.1f})">cm²</text>'
    )
    path = " ".join(f"{x(p.at):.1f},{y(p.area_cm2):.1f}" for p in ordered)
    parts.append(
        f'<polyline class="trend-line" fill="none" stroke="#0b57d0" stroke-width="3" '
        f'points="{path}"/>'
    )
    for point in ordered:
        cx, cy = x(point.at), y(point.area_cm2)
        parts.append(
            f'<circle {_POINT} cx="{cx:.1f}" cy="{cy:.1f}" r="5">'
            f"<title>{point.at:%d %b %Y}: {point.area_cm2:.2f} cm²</title></circle>"
        )
    # Date labels under the first and last points (and the middle one when there are many).
    labelled = {0, len(ordered) - 1} | ({len(ordered) // 2} if len(ordered) > 4 else set())
    for index in sorted(labelled):
        point = ordered[index]
        parts.append(
            f'<text {_AXIS} x="{x(point.at):.1f}" y="{HEIGHT - 14}" '
            f'text-anchor="middle">{point.at:%d %b %Y}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
