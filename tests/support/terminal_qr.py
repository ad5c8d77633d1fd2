"""Read back a QR code printed in a terminal (segno's compact block characters) with zxing-cpp."""

from __future__ import annotations

import zxingcpp
from PIL import Image

HALVES = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}
"""Each character is two modules, top and bottom; a block is a light module."""


def read_terminal_qr(text: str) -> str:
    """The text of the one QR code drawn in ``text`` (other lines are ignored)."""
    rows = [line for line in text.splitlines() if line.strip() and set(line) <= set(HALVES)]
    pixels: list[list[int]] = []
    for line in rows:
        pixels.append([HALVES[ch][0] for ch in line])
        pixels.append([HALVES[ch][1] for ch in line])
    assert pixels, "no QR code in the text"
    image = Image.new("L", (max(len(row) for row in pixels), len(pixels)))
    image.putdata([255 * bit for row in pixels for bit in row])
    image = image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "the printed QR code does not read"
    return str(found[0].text)
