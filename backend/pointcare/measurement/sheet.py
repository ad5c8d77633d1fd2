"""The printable sheet of calibration stickers (PDF, A4).

Everything is drawn as vectors (one filled square per black cell), so the printer renders the
marker's edges sharply at any resolution. Each sticker: the marker, a white quiet zone around
it (ArUco needs one), the 2 cm check bar with ticks at 0, 1 and 2 cm, and the marker's code.
"""

from __future__ import annotations

from fpdf import FPDF

from pointcare.measurement.marker import (
    CHECK_BAR_MM,
    MARKER_IDS,
    MARKER_SIDE_MM,
    MODULES,
    modules,
)

PAGE_MARGIN_MM = 15.0
STICKER_WIDTH_MM = 40.0
STICKER_HEIGHT_MM = 40.0
COLUMNS = 4
QUIET_ZONE_MM = 5.0
HEADER_HEIGHT_MM = 24.0
_BAR_THICKNESS_MM = 1.2
_TICK_MM = 2.5


def marker_sheet_pdf(*, title: str = "Pointcare wound measurement stickers") -> bytes:
    """One A4 page: instructions and a sticker for every printed marker code."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Pointcare")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    _header(pdf, title)
    for index, marker_id in enumerate(MARKER_IDS):
        row, column = divmod(index, COLUMNS)
        x = PAGE_MARGIN_MM + column * STICKER_WIDTH_MM
        y = PAGE_MARGIN_MM + HEADER_HEIGHT_MM + row * STICKER_HEIGHT_MM
        _sticker(pdf, x, y, marker_id)
    return bytes(pdf.output())


def _header(pdf: FPDF, title: str) -> None:
    pdf.set_xy(PAGE_MARGIN_MM, PAGE_MARGIN_MM)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(text=title)
    pdf.set_font("Helvetica", size=9)
    pdf.set_xy(PAGE_MARGIN_MM, PAGE_MARGIN_MM + 7)
    pdf.multi_cell(
        w=COLUMNS * STICKER_WIDTH_MM,
        text=(
            "Print at actual size (100 %, no 'fit to page'), then check with a ruler: every "
            f"bar must measure exactly {CHECK_BAR_MM / 10:g} cm and every black square "
            f"{MARKER_SIDE_MM / 10:g} cm. Do not use a sheet that fails the check. Place one "
            "sticker flat beside the wound, in the same plane, not covering it; photograph "
            "straight on, with the whole sticker in the frame."
        ),
    )


def _sticker(pdf: FPDF, x: float, y: float, marker_id: int) -> None:
    # Cut guide: a light dashed frame, outside the quiet zone.
    pdf.set_draw_color(170, 170, 170)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.0, gap=1.0)
    pdf.rect(x, y, STICKER_WIDTH_MM, STICKER_HEIGHT_MM)
    pdf.set_dash_pattern()
    left = x + (STICKER_WIDTH_MM - MARKER_SIDE_MM) / 2
    top = y + QUIET_ZONE_MM
    cell = MARKER_SIDE_MM / MODULES
    pdf.set_fill_color(0, 0, 0)
    black = modules(marker_id)
    for row in range(MODULES):
        for column in range(MODULES):
            if black[row, column]:
                pdf.rect(left + column * cell, top + row * cell, cell, cell, style="F")
    _check_bar(pdf, left, top + MARKER_SIDE_MM + 3.0)
    pdf.set_font("Helvetica", size=6)
    pdf.set_text_color(80, 80, 80)
    pdf.set_xy(x, y + STICKER_HEIGHT_MM - 4.0)
    pdf.cell(w=STICKER_WIDTH_MM, text=f"Pointcare marker {marker_id}", align="C")
    pdf.set_text_color(0, 0, 0)


def _check_bar(pdf: FPDF, left: float, top: float) -> None:
    pdf.set_fill_color(0, 0, 0)
    pdf.rect(left, top, CHECK_BAR_MM, _BAR_THICKNESS_MM, style="F")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.25)
    for mm in (0.0, CHECK_BAR_MM / 2, CHECK_BAR_MM):
        # Ticks hang below the bar; the outer ticks sit on the bar's ends exactly.
        tick_x = min(max(left + mm, left + 0.125), left + CHECK_BAR_MM - 0.125)
        pdf.line(tick_x, top, tick_x, top + _BAR_THICKNESS_MM + _TICK_MM)
    pdf.set_font("Helvetica", style="B", size=7)
    pdf.set_xy(left, top + _BAR_THICKNESS_MM + _TICK_MM + 0.3)
    pdf.cell(w=CHECK_BAR_MM, text=f"{CHECK_BAR_MM / 10:g} cm", align="C")
