"""Rendered images (PS3.18 8.3.5.1): a stored JPEG as-is, or fitted to a viewport with Pillow."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image

DEFAULT_QUALITY = 90
"""JPEG quality of a re-encoded rendering when the caller does not ask for one."""
MAX_VIEWPORT = 8192


@dataclass(frozen=True, slots=True)
class RenderOptions:
    viewport: tuple[int, int] | None = None
    """Largest width and height; the image is scaled down to fit, keeping its aspect ratio."""
    quality: int | None = None

    @property
    def as_stored(self) -> bool:
        return self.viewport is None and self.quality is None


def parse_render_options(viewport: str | None, quality: str | None) -> RenderOptions:
    """Read ``viewport=w,h`` and ``quality=1..100``; ``ValueError`` says what is wrong."""
    size: tuple[int, int] | None = None
    if viewport is not None and viewport.strip():
        parts = [part.strip() for part in viewport.split(",")]
        if len(parts) != 2 or not all(part.isascii() and part.isdigit() for part in parts):
            raise ValueError(
                f"viewport must be WIDTH,HEIGHT in pixels (a source rectangle is not supported), "
                f"got {viewport!r}"
            )
        width, height = int(parts[0]), int(parts[1])
        if not (1 <= width <= MAX_VIEWPORT and 1 <= height <= MAX_VIEWPORT):
            raise ValueError(f"viewport width and height must be between 1 and {MAX_VIEWPORT}")
        size = (width, height)
    level: int | None = None
    if quality is not None and quality.strip():
        text = quality.strip()
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 100):
            raise ValueError(f"quality must be a whole number from 1 to 100, got {quality!r}")
        level = int(text)
    return RenderOptions(size, level)


def render_jpeg(jpeg: bytes, options: RenderOptions) -> bytes:
    """``jpeg`` fitted into the viewport (never enlarged) and re-encoded; as-is when no option
    asks for a change, or when it already fits and no quality is asked for."""
    if options.as_stored:
        return jpeg
    with Image.open(BytesIO(jpeg)) as image:  # reads the header only, until pixels are needed
        fits = options.viewport is None or (
            image.width <= options.viewport[0] and image.height <= options.viewport[1]
        )
        if fits and options.quality is None:
            return jpeg
        if not fits and options.viewport is not None:
            image.draft("RGB", options.viewport)  # let the JPEG decoder scale by 1/2, 1/4, 1/8
            image.thumbnail(options.viewport, Image.Resampling.LANCZOS)
        output = BytesIO()
        image.convert("RGB").save(output, "JPEG", quality=options.quality or DEFAULT_QUALITY)
    return output.getvalue()
