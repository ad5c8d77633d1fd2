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
    MEASUREMENT_REPORT = "measurement_report"
    """A wound measurement traced on a photo (Comprehensive 3D SR, TID 1500)."""

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_image(self) -> bool:
        """Taken of the patient: it has a body site, consent and a thumbnail."""
        return self is ObjectKind.PHOTO


_LABELS = {
    ObjectKind.PHOTO: "photo",
    ObjectKind.DOCUMENT: "document",
    ObjectKind.REJECTION_NOTE: "rejection note",
    ObjectKind.MEASUREMENT_REPORT: "measurement report",
}
