"""The calibration marker: an ArUco fiducial of known size printed on a sticker.

The nurse sticks one beside the wound, in the wound's plane. Its four outer corners, found in the
photo, fix the mapping from the photo to that plane (a homography), hence centimetres. The
sticker also carries a 2 cm check bar: a ruler across it proves the sheet was printed at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

DICTIONARY_ID = cv2.aruco.DICT_4X4_50
"""4x4 data bits: the fewest modules, so the largest ones for a given sticker, which keeps a
small sticker detectable from a step away. Hamming distance 4 between codes."""
DICTIONARY_NAME = "DICT_4X4_50"
MARKER_IDS = tuple(range(0, 24))
"""The codes printed on a sheet; any other code seen in a photo is not ours and is ignored."""
MARKER_SIDE_MM = 20.0
"""Outer side of the black square: the distance between the corners the measurement uses."""
CHECK_BAR_MM = 20.0
MODULES = 6
"""Cells across the marker: 4 data bits plus a black border cell on each side."""


@dataclass(frozen=True, slots=True)
class MarkerSpec:
    """What a detector needs to know about the printed markers."""

    side_mm: float = MARKER_SIDE_MM
    ids: tuple[int, ...] = MARKER_IDS

    def __post_init__(self) -> None:
        if not self.side_mm > 0:
            raise ValueError(f"marker side must be positive, not {self.side_mm} mm")
        if not self.ids or any(not 0 <= i < 50 for i in self.ids):
            raise ValueError(f"marker ids must lie in 0..49 ({DICTIONARY_NAME}), not {self.ids}")

    def corners_mm(self) -> NDArray[np.float64]:
        """The outer corners in the marker's own plane, in ArUco's order (clockwise from the
        top left as printed), origin at the marker's centre."""
        half = self.side_mm / 2
        return np.array([[-half, -half], [half, -half], [half, half], [-half, half]])


DEFAULT_MARKER = MarkerSpec()


@cache
def dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(DICTIONARY_ID)


def modules(marker_id: int) -> NDArray[np.bool_]:
    """The marker's cells as printed, ``True`` for black, ``MODULES`` x ``MODULES``."""
    if marker_id not in MARKER_IDS:
        raise ValueError(f"marker id {marker_id} is not one Pointcare prints ({MARKER_IDS})")
    image = cv2.aruco.generateImageMarker(dictionary(), marker_id, MODULES, borderBits=1)
    return np.asarray(image == 0)
