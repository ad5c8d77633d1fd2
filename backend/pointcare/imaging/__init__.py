"""Pixels only: decode, orient, colour, encode, thumbnails.

Nothing here does I/O beyond bytes in and bytes out, and nothing here knows DICOM.
"""

from pointcare.imaging.photo import (
    ImageTooLarge,
    NormalisedPhoto,
    PhotoRejected,
    UnreadableImage,
    UnsupportedImage,
    normalise_photo,
)

__all__ = [
    "ImageTooLarge",
    "NormalisedPhoto",
    "PhotoRejected",
    "UnreadableImage",
    "UnsupportedImage",
    "normalise_photo",
]
