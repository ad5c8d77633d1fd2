"""Consent for clinical photography (UK IMI / GMC practice) and its DICOM projection.

Consent is given separately for the clinical record, for teaching within the organisation and for
publication. The database is the source of truth; DICOM carries the reuse scopes only, in the
Consent for Clinical Trial Use Sequence (0012,0083).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    BEST_INTERESTS = "best_interests"
    """Recorded in the patient's best interests when they lack capacity (clinical record only)."""

    @property
    def label(self) -> str:
        return {
            "verbal": "Verbal",
            "written": "Written",
            "best_interests": "Best interests (patient lacks capacity)",
        }[self.value]


class DistributionType(StrEnum):
    """DICOM Distribution Type (0012,0084) values used for the reuse scopes."""

    TEACHING = "RESTRICTED_REUSE"
    PUBLICATION = "PUBLIC_RELEASE"


class ConsentNotGiven(ValueError):
    """Capture may not proceed: there is no consent for the clinical record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    clinical_record: bool
    teaching: bool
    publication: bool
    method: ConsentMethod

    def __post_init__(self) -> None:
        if not self.clinical_record:
            raise ConsentNotGiven(
                "the patient has not consented to photographs for the clinical record, "
                "so no photo can be taken or stored"
            )
        if self.method is ConsentMethod.BEST_INTERESTS and (self.teaching or self.publication):
            raise ValueError(
                "consent recorded in best interests covers the clinical record only, "
                "not teaching or publication"
            )

    def dicom_items(self) -> list[tuple[DistributionType, bool]]:
        """(distribution type, consented) pairs for the Consent for Clinical Trial Use Sequence."""
        return [
            (DistributionType.TEACHING, self.teaching),
            (DistributionType.PUBLICATION, self.publication),
        ]
