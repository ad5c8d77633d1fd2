"""What Pointcare stores in a patient's record: each kind of object, and its DICOM class."""

from __future__ import annotations

from enum import StrEnum


class ObjectKind(StrEnum):
    """The kinds of stored object. Stored as the value; never rename a value."""

    PHOTO = "photo"
    """A clinical photograph (VL Photographic Image)."""
    DOCUMENT = "document"
    """A PDF added to the record: a scanned consent form, a referral letter (Encapsulated PDF)."""
    REJECTION_NOTE = "rejection_note"
    """An IHE IOCM rejection note (Key Object Selection Document) that hides rejected objects."""
    DERMOSCOPY = "dermoscopy"
    """A photo through a dermatoscope (Dermoscopic Photography Image, modality DMS)."""
    VIDEO = "video"
    """A video clip (Video Photographic Image, H.264 in MP4)."""

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_image(self) -> bool:
        """Taken of the patient: it has a body site, consent and a thumbnail."""
        return self in _IMAGES

    @property
    def is_still(self) -> bool:
        """An image to look at, zoom and compare; a clip is played instead."""
        return self in _IMAGES and self is not ObjectKind.VIDEO


_LABELS = {
    ObjectKind.PHOTO: "photo",
    ObjectKind.DOCUMENT: "document",
    ObjectKind.REJECTION_NOTE: "rejection note",
    ObjectKind.DERMOSCOPY: "dermoscopic image",
    ObjectKind.VIDEO: "video clip",
}
_IMAGES = frozenset({ObjectKind.PHOTO, ObjectKind.DERMOSCOPY, ObjectKind.VIDEO})
