"""DICOM status codes a STOW-RS answer gives per instance (PS3.18 10.5.3, PS3.4 B.2.3), with the
words an admin or an integrator reads them by. The same codes are read from a PACS's answers
(``archive.stow``) and written into Pointcare's own (``web.dicomweb.stow_answer``)."""

from __future__ import annotations

PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
SOP_CLASS_NOT_SUPPORTED = 0x0122
NOT_AUTHORIZED = 0x0124
OUT_OF_RESOURCES = 0xA700
DOES_NOT_MATCH_SOP_CLASS = 0xA900
CANNOT_UNDERSTAND = 0xC000
TRANSFER_SYNTAX_NOT_SUPPORTED = 0xC122
COERCED = 0xB000
ELEMENTS_DISCARDED = 0xB006
DOES_NOT_MATCH_SOP_CLASS_WARNING = 0xB007

# Pointcare's own refusals, in the "Error: cannot understand" range (Cxxx, implementation
# specific): listed in docs/conformance.md.
UNKNOWN_PATIENT = 0xC101
"""No patient of the directory has the object's Patient ID (and issuer)."""
PATIENT_MISMATCH = 0xC102
"""The object's patient name, birth date or sex contradicts the directory's patient."""
CONFLICTING_INSTANCE = 0xC103
"""The SOP Instance UID is already stored with other content, or was rejected (IOCM)."""
NO_CONSENT = 0xC104
"""A photo sent without the patient's consent for the clinical record."""

_MEANINGS = {
    PROCESSING_FAILURE: "processing failure",
    DUPLICATE_SOP_INSTANCE: "duplicate SOP instance",
    SOP_CLASS_NOT_SUPPORTED: "SOP Class not supported",
    NOT_AUTHORIZED: "not authorized",
    COERCED: "coercion of data elements",
    ELEMENTS_DISCARDED: "elements discarded",
    DOES_NOT_MATCH_SOP_CLASS_WARNING: "data set does not match SOP Class",
    TRANSFER_SYNTAX_NOT_SUPPORTED: "transfer syntax not supported",
    UNKNOWN_PATIENT: "unknown patient",
    PATIENT_MISMATCH: "patient does not match the directory",
    CONFLICTING_INSTANCE: "instance already stored differently, or rejected",
    NO_CONSENT: "no consent for the clinical record",
}


def status_meaning(code: int) -> str:
    """'A700 (out of resources)': a per-instance status code as an admin can read it."""
    meaning = _MEANINGS.get(code)
    if meaning is None:
        high = code >> 8
        if high == 0xA7:
            meaning = "out of resources"
        elif high == 0xA9:
            meaning = "data set does not match SOP Class"
        elif code >> 12 == 0xC:
            meaning = "cannot understand"
        else:
            meaning = "unknown status"
    return f"{code:04X} ({meaning})"
