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


class Cause(StrEnum):
    """Why an instance got its outcome, in words short enough for a metric label."""

    STORED = "stored"
    ALREADY_HELD = "already_held"
    """The PACS called it a duplicate, and a search by its UIDs found it there."""
    REFUSED = "refused"
    """Named in the Failed SOP Sequence (or refused by the built-in archive)."""
    DUPLICATE = "duplicate"
    """Named as failed with Failure Reason 0111 (duplicate SOP instance): to be verified."""
    REQUEST_REFUSED = "request_refused"
    """A 4xx that named no instance: the whole request was refused, maybe for one of them."""
    CONFLICT = "conflict"
    """A 409 that named no instance: maybe a duplicate, to be verified."""
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    """No connection to the PACS."""
    SERVER_ERROR = "server_error"
    """A 5xx, or an answer that could not be read."""
    UNANSWERED = "unanswered"
    """A 200 or 202 that did not name it."""
    SPOOL_MISSING = "spool_missing"
    INTERNAL = "internal"
    """Our own code failed while sending."""
    INTERRUPTED = "interrupted"
    """The forwarder stopped (a crash, a kill) before it recorded a result."""


REQUEST_LEVEL = frozenset({Cause.REQUEST_REFUSED, Cause.CONFLICT})
"""Causes that say nothing of one instance of a request of several: send them one by one."""
TO_VERIFY = frozenset({Cause.DUPLICATE, Cause.CONFLICT})
"""Refusals that may mean "already held": ask the PACS for the instance before believing them."""


@dataclass(frozen=True, slots=True)
class InstanceResult:
    outcome: Outcome
    reason: str = ""
    """Why it failed or is unconfirmed, or a warning the archive gave with a stored instance."""
    cause: Cause | None = None
    """Why, as a code; None: the usual one for the outcome (see ``why``)."""

    @property
    def why(self) -> Cause:
        if self.cause is not None:
            return self.cause
        return {
            Outcome.STORED: Cause.STORED,
            Outcome.FAILED: Cause.REFUSED,
            Outcome.UNCONFIRMED: Cause.SERVER_ERROR,
        }[self.outcome]


@dataclass(frozen=True, slots=True)
class StoreReport:
    """The archive's answer to one store request, per SOP Instance UID sent."""

    results: dict[str, InstanceResult]

    def stored(self) -> list[str]:
        return [uid for uid, r in self.results.items() if r.outcome is Outcome.STORED]

    @classmethod
    def for_all(
        cls,
        sop_instance_uids: Sequence[str],
        outcome: Outcome,
        reason: str,
        cause: Cause | None = None,
    ) -> StoreReport:
        return cls({uid: InstanceResult(outcome, reason, cause) for uid in sop_instance_uids})


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

    def holds(self, ref: InstanceRef) -> bool:
        """Whether the archive holds this instance, under these study and series UIDs (a
        QIDO-RS search by UID): how a refusal as "duplicate" is checked."""
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
