"""What an audit event says: who, from where, did what, to which patient and objects, with what
outcome. Pure values, checked when built, so that a bad event fails in the caller's code and
never half-way into the trail.

Privacy rule: the trail may hold user names, MRNs and UIDs, never patient names or pixels.
``details`` therefore takes only short scalar values (no free text from a patient record).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from pointcare.auth.principal import Principal

MAX_USER_AGENT = 256
MAX_REASON = 256
MAX_DETAIL_TEXT = 256
MAX_OBJECTS = 1000

DetailValue = str | int | bool | None
"""Scalars only: floats would not hash the same after a round trip through every database."""


class AuditAction(StrEnum):
    """Every kind of event the trail records. Stored as its value; never rename a value."""

    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_LOCKED = "login.locked"
    """Sign-in refused because the account or address is temporarily locked."""
    LOGOUT = "logout"
    TOKEN_ISSUED = "token.issued"  # noqa: S105 (an action name, not a secret)
    """An API bearer token was minted (``pointcare token``)."""
    LAUNCH = "launch"
    """A session opened from the EHR with a signed launch token."""
    LAUNCH_REFUSED = "launch.refused"
    BREAK_GLASS = "break_glass"
    """A user gave a reason to open restricted (sensitive) photos."""
    PATIENT_SEARCH = "patient.search"
    PATIENT_OPEN = "patient.open"
    """A patient's capture or review page was opened."""
    PHOTO_STORED = "photo.stored"
    DOCUMENT_STORED = "document.stored"
    """A PDF added to a patient's record (Encapsulated PDF)."""
    REJECTION_NOTE_STORED = "rejection_note.stored"
    """A rejection note (IHE IOCM Key Object Selection) stored by a correction."""
    DERMOSCOPY_STORED = "dermoscopy.stored"
    """A photo through a dermatoscope (Dermoscopic Photography Image)."""
    VIDEO_STORED = "video.stored"
    """A video clip (Video Photographic Image)."""
    IMAGE_VIEWED = "image.viewed"
    """One image shown in full or retrieved (photo page, WADO-RS instance/frames/rendered)."""
    IMAGE_LIST_VIEWED = "image.list_viewed"
    """A list of thumbnails (timeline, study list): one event for the whole list."""
    DELIVERY_PARKED = "delivery.parked"
    DELIVERY_RETRIED = "admin.delivery_retry"
    USER_ADDED = "admin.user_add"
    USER_CHANGED = "admin.user_change"
    """An admin gave an account another role, or switched it off or on."""
    PASSWORD_RESET = "admin.password_reset"  # noqa: S105 (an action name, not a secret)
    """An admin gave an account a temporary password (to be changed at its next sign-in)."""
    PASSWORD_CHANGED = "password.change"  # noqa: S105 (an action name, not a secret)
    """A user changed their own password."""
    PATIENTS_IMPORTED = "admin.patient_import"
    SETTINGS_CHANGED = "admin.settings_change"
    CONSENT_CHANGED = "consent.change"
    CORRECTION = "correction"
    """Photos rejected (IHE IOCM), and corrected copies stored for the right patient or details."""
    EXPORT = "export"
    """Data left Pointcare in bulk (a teaching export, the audit trail itself)."""
    FINDING_CHANGED = "finding.change"
    """A finding (a wound, a lesion) was opened, closed, or a photo linked to it."""
    MEASUREMENT_REPORT_STORED = "measurement_report.stored"
    """A wound's area, length, width and perimeter were measured on a photo and kept, as a
    measurement report (DICOM SR) in the record."""
    AUDIT_SEARCHED = "audit.search"
    """Someone read the audit trail (DICOM 110101 "Audit Log Used")."""
    ACCESS_REFUSED = "access.refused"
    """A signed-in user was refused (403): a role, a sealed photo, another patient than the
    EHR's, a form that did not come from Pointcare."""


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    """It went wrong (bad credentials, bad token, an error)."""
    REFUSED = "refused"
    """The user was not allowed (role, lockout, replayed launch)."""


class SystemRole(StrEnum):
    """The role recorded for an actor that is not a signed-in user."""

    SYSTEM = "system"
    """A background worker (the delivery forwarder)."""
    OPERATOR = "operator"
    """Someone at the server's command line (``pointcare users add``, ``patients import``)."""
    ANONYMOUS = "anonymous"
    """Not signed in (a failed sign-in, a refused launch)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who acted and from where. ``user_id`` is None for workers, the CLI and anonymous callers."""

    user_id: int | None
    username: str | None
    role: str
    client_address: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        if not self.role:
            raise ValueError("an audit actor needs a role")
        if self.user_agent is not None and len(self.user_agent) > MAX_USER_AGENT:
            object.__setattr__(self, "user_agent", self.user_agent[:MAX_USER_AGENT])

    @classmethod
    def of(
        cls,
        principal: Principal,
        *,
        client_address: str | None = None,
        user_agent: str | None = None,
    ) -> Actor:
        """A signed-in user (see ``pointcare.audit.actor_of`` to add the request's address)."""
        return cls(
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role.value,
            client_address=client_address,
            user_agent=user_agent,
        )

    @classmethod
    def system(cls, name: str) -> Actor:
        """A background worker, e.g. ``Actor.system("forwarder")``."""
        return cls(user_id=None, username=name, role=SystemRole.SYSTEM.value)

    @classmethod
    def operator(cls, name: str) -> Actor:
        """The command line, named by the operating-system user running it."""
        return cls(
            user_id=None, username=name, role=SystemRole.OPERATOR.value, client_address="local"
        )


class PatientRow(Protocol):
    """What ``PatientRef.of`` needs of a patient (``db.models.Patient`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def mrn(self) -> str: ...
    @property
    def issuer(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientRef:
    """The patient an event concerns: the directory row id, and the MRN with its issuer (which
    stay readable even if the row is merged later). Never a name."""

    mrn: str
    issuer: str | None = None
    patient_id: int | None = None

    def __post_init__(self) -> None:
        if not self.mrn.strip():
            raise ValueError("an audited patient needs an MRN")

    @classmethod
    def of(cls, patient: PatientRow) -> PatientRef:
        return cls(mrn=patient.mrn, issuer=patient.issuer, patient_id=patient.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One event, ready to be appended with ``pointcare.audit.record``."""

    action: AuditAction
    actor: Actor
    outcome: Outcome = Outcome.SUCCESS
    patient: PatientRef | None = None
    objects: tuple[str, ...] = ()
    """UIDs (SOP Instance, Study) or other ids the event touched, in a stable order."""
    reason: str | None = None
    """Short and in words: why it failed or was refused, the break-the-glass reason."""
    details: Mapping[str, DetailValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Coerce at the boundary: callers may pass the enum's value or a list.
        object.__setattr__(self, "action", AuditAction(self.action))
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        objects = tuple(self.objects)
        if len(objects) > MAX_OBJECTS:
            raise ValueError(f"an audit event lists at most {MAX_OBJECTS} objects")
        if not all(isinstance(o, str) and o for o in objects):
            raise ValueError("audit objects must be non-empty strings (UIDs)")
        object.__setattr__(self, "objects", objects)
        if self.reason is not None and len(self.reason) > MAX_REASON:
            object.__setattr__(self, "reason", self.reason[: MAX_REASON - 1] + "…")
        object.__setattr__(self, "details", MappingProxyType(_checked_details(self.details)))


def _checked_details(details: Mapping[str, DetailValue]) -> dict[str, DetailValue]:
    checked: dict[str, DetailValue] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not key:
            raise ValueError("audit detail keys must be non-empty strings")
        if isinstance(value, float) or not isinstance(value, str | int | bool | type(None)):
            raise ValueError(f"audit detail {key!r} must be a string, integer, boolean or None")
        if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {key!r} is longer than {MAX_DETAIL_TEXT} characters")
        checked[key] = value
    return checked
