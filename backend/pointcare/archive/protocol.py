"""What Pointcare needs of an archive, whichever holds the photos: the built-in one or a PACS.

Store objects (with an answer per instance), search a patient's studies, and retrieve an
instance, its rendering or a thumbnail. ``BuiltinArchive`` (files + database index) and
``DicomwebArchive`` (STOW-RS, QIDO-RS, WADO-RS) implement it; one contract test runs against
both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from pointcare.errors import PointcareError

THUMBNAIL_SIZE = 320
"""Longest side of a thumbnail, in pixels."""


class ArchiveUnavailable(PointcareError):
    """The archive could not be reached or did not answer as it should (retry later)."""

    status_code = 502
    title = "Archive unavailable"


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """Where an instance is in the DICOM hierarchy: what WADO-RS needs to retrieve it."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


@dataclass(frozen=True, slots=True)
class OutgoingInstance:
    """A Part-10 object to store, with the SOP Instance UID it carries."""

    sop_instance_uid: str
    part10: bytes


class Outcome(StrEnum):
    STORED = "stored"
    """The archive confirmed it holds the instance (also when it held it before)."""
    FAILED = "failed"
    """The archive said it did not store the instance (Failed SOP Sequence, or a refusal)."""
    UNCONFIRMED = "unconfirmed"
    """No answer about this instance (timeout, connection lost, a 5xx, an unreadable answer):
    it may or may not be stored. Sending it again is safe: its UIDs do not change."""


@dataclass(frozen=True, slots=True)
class InstanceResult:
    outcome: Outcome
    reason: str = ""
    """Why it failed or is unconfirmed, or a warning the archive gave with a stored instance."""


@dataclass(frozen=True, slots=True)
class StoreReport:
    """The archive's answer to one store request, per SOP Instance UID sent."""

    results: dict[str, InstanceResult]

    def stored(self) -> list[str]:
        return [uid for uid, r in self.results.items() if r.outcome is Outcome.STORED]

    @classmethod
    def for_all(
        cls, sop_instance_uids: Sequence[str], outcome: Outcome, reason: str
    ) -> StoreReport:
        return cls({uid: InstanceResult(outcome, reason) for uid in sop_instance_uids})


@dataclass(frozen=True, slots=True)
class PatientKey:
    """A patient as archives know them: Patient ID (the MRN) and its issuer."""

    patient_id: str
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class StudySummary:
    """One study as a study-level search answers it."""

    study_instance_uid: str
    study_date: date | None
    modalities: tuple[str, ...]
    description: str
    accession_number: str
    number_of_instances: int | None


class Archive(Protocol):
    """An archive of DICOM objects."""

    def store(self, instances: Sequence[OutgoingInstance]) -> StoreReport:
        """Store ``instances``; the report has one result per SOP Instance UID sent.

        Never raises for an archive that is down or refuses: that is in the report.
        """
        ...

    def search_studies(self, patient: PatientKey) -> list[StudySummary]:
        """Every study the archive holds for ``patient`` (any modality), newest first."""
        ...

    def search_instances(self, study_instance_uid: str) -> list[InstanceRef]:
        """Every instance of a study."""
        ...

    def retrieve_instance(self, ref: InstanceRef) -> bytes:
        """The Part-10 object as stored (no transcoding); ``NotFound`` if absent."""
        ...

    def retrieve_rendered(self, ref: InstanceRef) -> bytes:
        """The instance rendered as a JPEG."""
        ...

    def retrieve_thumbnail(self, ref: InstanceRef) -> bytes:
        """A JPEG of the instance at most ``THUMBNAIL_SIZE`` pixels on its longest side."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
