"""A suggested outline: GrabCut seeded by a rough loop drawn around the wound.

The clinician circles the wound loosely; everything outside the loop is skin (background),
everything inside may be wound. GrabCut (OpenCV) models both colours and cuts along the edge
between them. The suggestion is only a starting point: the clinician corrects it before it is
measured, so it is computed on a reduced copy of the region, which keeps it interactive.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from pointcare.measurement.geometry import Points, as_points

WORKING_SIDE = 640
"""Longer side, in pixels, of the copy of the region GrabCut works on."""
_ITERATIONS = 4
_MARGIN = 0.25
"""Share of the loop's size added around it as known skin."""


def suggest_outline(image: NDArray[np.uint8], loop: ArrayLike) -> Points:
    """An outline (photo pixels) of the wound inside ``loop``, a rough closed stroke around it
    on the colour photo ``image`` (BGR). ``ValueError`` when the loop is unusable or nothing
    inside it stands out from the skin around it."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("a suggested outline needs an 8-bit colour photo")
    stroke = as_points(loop)
    if len(stroke) < 3:
        raise ValueError("draw a loop around the wound (at least 3 points)")
    height, width = image.shape[:2]
    lo, hi = stroke.min(axis=0), stroke.max(axis=0)
    if (hi - lo).min() < 8:
        raise ValueError("the loop around the wound is too small")
    pad = _MARGIN * (hi - lo)
    x0, y0 = np.maximum(np.floor(lo - pad), 0).astype(int)
    x1 = int(min(width, np.ceil(hi[0] + pad[0])))
    y1 = int(min(height, np.ceil(hi[1] + pad[1])))
    region = image[y0:y1, x0:x1]
    factor = min(1.0, WORKING_SIDE / max(region.shape[:2]))
    small = cv2.resize(region, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    local = (stroke - [x0, y0]) * factor
    mask = np.full(small.shape[:2], cv2.GC_BGD, np.uint8)
    cv2.fillPoly(mask, [np.round(local).astype(np.int32)], cv2.GC_PR_FGD)
    # The stroke itself is drawn on the wound's edge or just outside it: undecided.
    thickness = max(3, round(0.02 * max(small.shape[:2])))
    cv2.polylines(mask, [np.round(local).astype(np.int32)], True, cv2.GC_PR_BGD, thickness)
    if not (mask == cv2.GC_PR_FGD).any():
        raise ValueError("the loop around the wound encloses no area")
    background = np.zeros((1, 65), np.float64)
    foreground = np.zeros((1, 65), np.float64)
    no_rectangle = (0, 0, 0, 0)  # the mask seeds GrabCut
    cv2.grabCut(
        np.asarray(small, np.uint8),
        mask,
        no_rectangle,
        background,
        foreground,
        _ITERATIONS,
        cv2.GC_INIT_WITH_MASK,
    )
    wound = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(wound, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise ValueError("nothing inside the loop stands out from the skin around it")
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < 16:
        raise ValueError("nothing inside the loop stands out from the skin around it")
    simplified = cv2.approxPolyDP(largest, 0.75, True).reshape(-1, 2).astype(np.float64)
    return np.asarray(simplified / factor + [x0, y0], dtype=np.float64)
