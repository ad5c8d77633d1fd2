"""The figures and verdicts every scenario hands the harness's report."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

NOT_MEASURED = "not measured"

Verdict = tuple[str, str, bool | None]
"""A row of the targets table: target, figure, met (None: not measured)."""


def summary(values: Iterable[float]) -> dict[str, float]:
    """Median, min and max over the rounds (or repeats)."""
    ordered = list(values)
    return {"median": statistics.median(ordered), "min": min(ordered), "max": max(ordered)}


def verdict(met: bool | None) -> str:
    """A target's verdict as the table says it."""
    return NOT_MEASURED if met is None else ("met" if met else "MISSED")


def cell(figure: dict[str, float], digits: int = 0) -> str:
    """``median (min–max)``."""
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"


def unmeasured(title: str, block: dict[str, Any]) -> list[str] | None:
    """The section of a scenario that did not run (or could not), saying why; None if it ran."""
    if block and "status" not in block:
        return None
    return [title, "", f"not measured: {block.get('why', 'not run')}", ""]
