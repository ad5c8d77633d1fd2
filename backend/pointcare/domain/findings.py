"""Findings: the wounds and skin lesions a clinic follows visit after visit.

A finding belongs to one patient: its kind, a label the clinic uses ("Wound 1", "Lesion 3"),
where it is (body site, side, aspect), and when it was opened and closed. Photos and
measurements are linked to it, so the finding, not the photo, is what is followed over time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pointcare.domain.body_sites import Aspect, BodySite, Laterality
from pointcare.domain.codes import LOCAL_SCHEME, Code

LABEL_MAX = 64
"""Fits a DICOM LO (the SR's Tracking Identifier)."""


class FindingKind(StrEnum):
    PRESSURE_INJURY = "pressure-injury"
    SURGICAL_WOUND = "surgical-wound"
    VENOUS_ULCER = "venous-ulcer"
    DIABETIC_FOOT_ULCER = "diabetic-foot-ulcer"
    BURN = "burn"
    OTHER_WOUND = "other-wound"
    SKIN_LESION = "skin-lesion"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def is_wound(self) -> bool:
        return self is not FindingKind.SKIN_LESION

    @property
    def code(self) -> Code:
        """The finding type in a measurement report. A local code: the kinds are the clinic's
        categories, not diagnoses, and are not claimed to be SNOMED CT concepts."""
        return Code(f"FK-{self.value}", LOCAL_SCHEME, self.label)

    @property
    def label_prefix(self) -> str:
        return "Wound" if self.is_wound else "Lesion"


_KIND_LABELS = {
    FindingKind.PRESSURE_INJURY: "Pressure injury",
    FindingKind.SURGICAL_WOUND: "Surgical wound",
    FindingKind.VENOUS_ULCER: "Venous ulcer",
    FindingKind.DIABETIC_FOOT_ULCER: "Diabetic foot ulcer",
    FindingKind.BURN: "Burn",
    FindingKind.OTHER_WOUND: "Other wound",
    FindingKind.SKIN_LESION: "Skin lesion",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingDetails:
    """What a clinician states about a finding; checked on construction."""

    kind: FindingKind
    label: str
    body_site: BodySite
    laterality: Laterality | None
    """None for an unpaired site; set to the recorded laterality on construction."""
    aspect: Aspect | None
    opened_on: date
    closed_on: date | None = None

    def __post_init__(self) -> None:
        label = " ".join(self.label.split())
        if not label:
            raise ValueError("a finding needs a label, such as 'Wound 1'")
        if any(ord(character) < 32 or ord(character) == 127 for character in label):
            raise ValueError("the label holds control characters")
        if len(label) > LABEL_MAX:
            raise ValueError(f"the label is longer than {LABEL_MAX} characters")
        object.__setattr__(self, "label", label)
        # Paired sites need a side; unpaired ones take U (the body site's own rule).
        object.__setattr__(self, "laterality", self.body_site.laterality_for(self.laterality))
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError("a finding cannot be closed before it was opened")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


_NUMBERED = re.compile(r"^(?:Wound|Lesion) (\d+)$", re.IGNORECASE)


def next_label(kind: FindingKind, existing: Iterable[str]) -> str:
    """The label a new finding of ``kind`` gets by default: "Wound N" or "Lesion N", one above
    the highest number the patient's findings of that family already use."""
    prefix = kind.label_prefix.lower()
    used = [
        int(match.group(1))
        for label in existing
        if (match := _NUMBERED.match(label.strip())) and label.strip().lower().startswith(prefix)
    ]
    return f"{kind.label_prefix} {max(used, default=0) + 1}"
