"""Rendered images (PS3.18 8.3.5.1): a stored JPEG as-is, or fitted to a viewport with Pillow.

A frame stored as JPEG and asked for as JPEG without changes goes out byte for byte; anything
else is decoded (a JPEG with Pillow's draft mode, which lets the decoder scale by 1/2 to 1/8),
scaled down to fit the viewport, and encoded as JPEG (at ``quality``) or PNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image
from pydicom.dataset import Dataset

from pointcare.dicom.pixels import ENCAPSULATED_MEDIA_TYPES, frame_image, stored_frame
from pointcare.web.dicomweb.media import JPEG, PNG

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


def render_jpeg(jpeg: bytes, options: RenderOptions, media_type: str = JPEG) -> bytes:
    """``jpeg`` fitted into the viewport (never enlarged) and encoded as ``media_type``; as-is
    when a JPEG is asked for and no option asks for a change (or it fits, and no quality is
    asked for)."""
    if media_type == JPEG and options.as_stored:
        return jpeg
    with Image.open(BytesIO(jpeg)) as image:  # reads the header only, until pixels are needed
        fits = options.viewport is None or (
            image.width <= options.viewport[0] and image.height <= options.viewport[1]
        )
        if media_type == JPEG and fits and options.quality is None:
            return jpeg
        if not fits and options.viewport is not None:
            image.draft(image.mode, options.viewport)  # decode at 1/2, 1/4 or 1/8 when it can
        return _encoded(image, options, media_type)


def render_frame(dataset: Dataset, index: int, options: RenderOptions, media_type: str) -> bytes:
    """Frame ``index`` of a stored object rendered as ``media_type``."""
    if str(dataset.file_meta.TransferSyntaxUID) in ENCAPSULATED_MEDIA_TYPES:
        return render_jpeg(stored_frame(dataset, index), options, media_type)
    with frame_image(dataset, index) as image:
        return _encoded(image, options, media_type)


def _encoded(image: Image.Image, options: RenderOptions, media_type: str) -> bytes:
    if options.viewport is not None:
        image.thumbnail(options.viewport, Image.Resampling.LANCZOS)  # never enlarges
    output = BytesIO()
    if media_type == PNG:
        image.save(output, "PNG")
    else:
        image.convert("RGB" if image.mode != "L" else "L").save(
            output, "JPEG", quality=options.quality or DEFAULT_QUALITY
        )
    return output.getvalue()
