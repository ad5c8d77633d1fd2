"""Pure imaging transforms: photo normalisation (Pillow) and DICOM builders (pydicom).

Nothing here does I/O beyond bytes in and bytes out.
"""

from pointcare.imaging.dicom_photo import (
    JPEG_BASELINE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    Equipment,
    PhotoDetails,
    SeriesContext,
    StudyContext,
    build_vl_photographic_image,
    to_part10,
)
from pointcare.imaging.photo import (
    ImageTooLarge,
    NormalisedPhoto,
    PhotoRejected,
    UnreadableImage,
    UnsupportedImage,
    normalise_photo,
)
from pointcare.imaging.uids import new_uid

__all__ = [
    "JPEG_BASELINE",
    "VL_PHOTOGRAPHIC_IMAGE_STORAGE",
    "Equipment",
    "ImageTooLarge",
    "NormalisedPhoto",
    "PhotoDetails",
    "PhotoRejected",
    "SeriesContext",
    "StudyContext",
    "UnreadableImage",
    "UnsupportedImage",
    "build_vl_photographic_image",
    "new_uid",
    "normalise_photo",
    "to_part10",
]
