"""The printed sheet is measured as a photo would be: every marker found, at its size."""

from __future__ import annotations

import numpy as np
import pypdfium2
import pytest

from pointcare.measurement.detection import detect_markers
from pointcare.measurement.marker import DEFAULT_MARKER, MARKER_IDS, MARKER_SIDE_MM
from pointcare.measurement.sheet import marker_sheet_pdf

DPI = 300


@pytest.fixture(scope="module")
def printed() -> np.ndarray:
    """The sheet as a 300 dpi printer would put it on paper (greyscale)."""
    pdf = marker_sheet_pdf()
    assert pdf.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        # A4, so that a printer at 100 % keeps the scale.
        assert page.get_size() == pytest.approx((595.28, 841.89), abs=0.01)
        return np.asarray(page.render(scale=DPI / 72, grayscale=True).to_pil())
    finally:
        document.close()


def test_every_sticker_is_detected_at_its_printed_size(printed: np.ndarray) -> None:
    found = detect_markers(printed, DEFAULT_MARKER)
    assert sorted(m.marker_id for m in found) == list(MARKER_IDS)
    expected_px = MARKER_SIDE_MM / 25.4 * DPI
    for marker in found:
        sides = np.linalg.norm(np.roll(marker.corners, -1, axis=0) - marker.corners, axis=1)
        assert sides == pytest.approx(expected_px, rel=0.005)


def test_each_check_bar_is_two_centimetres(printed: np.ndarray) -> None:
    grey = printed
    found = {m.marker_id: m for m in detect_markers(grey, DEFAULT_MARKER)}
    marker = found[MARKER_IDS[0]]
    left, bottom = marker.corners[:, 0].min(), marker.corners[:, 1].max()
    # The bar is the first dark row below the marker: measure its dark run at mid-thickness.
    column = int(left + 5)
    below = grey[int(bottom) + 2 : int(bottom) + 80, column]
    row = int(bottom) + 2 + int(np.argmax(below < 128)) + 2
    dark = np.flatnonzero(grey[row, int(left) - 20 : int(left) + 300] < 128)
    length_mm = (dark[-1] - dark[0] + 1) / DPI * 25.4
    assert length_mm == pytest.approx(20.0, abs=0.2)
