"""Draw the app icons (PNG) from the logo's design: a white cross on the accent blue.

The PNGs are committed source assets; run this again only when the design changes:
    python infra/make-icons.py
Pillow draws at 4x and scales down, for smooth edges. ``maskable`` icons fill the whole square
(the launcher cuts its own shape) and keep the cross inside the central safe zone.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (11, 87, 208)  # --accent in app.css
WHITE = (255, 255, 255)
ICONS = Path(__file__).resolve().parents[1] / "pwa" / "static" / "icons"
SUPERSAMPLE = 4

# name: (size in px, maskable)
SIZES = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),  # iOS rounds the corners itself
}


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=ACCENT)
        arm = big * 0.22  # inside the 80 % safe circle
    else:
        # favicon.svg: a 32-unit square, corner radius 7, cross from 8.5 to 23.5, stroke 4.
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 7 / 32, fill=ACCENT)
        arm = big * 7.5 / 32
    stroke = big * 4 / 32 if not maskable else big * 0.1
    centre = big / 2
    for box in (
        (centre - arm, centre - stroke / 2, centre + arm, centre + stroke / 2),
        (centre - stroke / 2, centre - arm, centre + stroke / 2, centre + arm),
    ):
        pen.rounded_rectangle(box, radius=stroke / 2, fill=WHITE)
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    return small.convert("RGB") if maskable else small


def main() -> None:
    for name, (size, maskable) in SIZES.items():
        path = ICONS / name
        draw(size, maskable=maskable).save(path, optimize=True)
        print(f"{path.relative_to(ICONS.parents[2])}: {size}x{size}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
