"""How a refused image is told to the caller: one mapping for photos and wristband frames."""

from __future__ import annotations

from pointcare.errors import InvalidInput, PayloadTooLarge, PointcareError, UnsupportedMediaType
from pointcare.imaging.photo import ImageTooLarge, PhotoRejected, UnsupportedImage


def image_refused(exc: PhotoRejected, field: str) -> PointcareError:
    """415 for a file that is no image we take, 413 over the pixel limit, 422 for a broken one."""
    message = str(exc)
    if isinstance(exc, UnsupportedImage):
        return UnsupportedMediaType(message, errors={field: message})
    if isinstance(exc, ImageTooLarge):
        return PayloadTooLarge(message, errors={field: message})
    return InvalidInput(message, errors={field: message})
