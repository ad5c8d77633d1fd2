"""Coded concepts (code value, scheme, meaning), the one shape every DICOM code takes here."""

from __future__ import annotations

from dataclasses import dataclass

SCT = "SCT"
"""SNOMED CT coding scheme designator in DICOM."""
DCM = "DCM"
"""DICOM controlled terminology coding scheme designator."""
LOCAL_SCHEME = "99PCARE"
"""Private coding scheme for concepts no public terminology defines (the '99' prefix is DICOM's)."""


@dataclass(frozen=True, slots=True)
class Code:
    value: str
    scheme: str
    meaning: str

    def __post_init__(self) -> None:
        if not self.value or not self.scheme or not self.meaning:
            raise ValueError("a code needs a value, a scheme designator and a meaning")
        if len(self.meaning) > 64:
            raise ValueError(f"code meaning {self.meaning!r} is longer than 64 characters (LO)")
