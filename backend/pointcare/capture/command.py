"""The capture command: everything that says what to store for whom, as every way in builds it.

The API, the capture page, the bedside, desk upload and a correction's corrected copy each turn
what they received into one ``CaptureCommand`` (``capture.fields`` does it for form and API
fields); ``capture.service.capture`` carries it out the same way whichever built it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pointcare.domain.body_sites import Aspect, BodySite, Laterality
from pointcare.domain.clock import TakenAt
from pointcare.domain.consent import ConsentAnswers
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View


class Source(StrEnum):
    """The way in a command came by (recorded in the audit trail)."""

    API = "api"
    CAPTURE_PAGE = "capture_page"
    BEDSIDE = "bedside"
    DESK_UPLOAD = "desk_upload"
    CORRECTION = "correction"
    DEMO = "demo"
    """The photo histories ``serve --demo`` stores at start (``pointcare.demo``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmedPatient:
    """The patient the user confirmed (or the caller named): MRN and, when known, its issuer."""

    mrn: str
    issuer: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageTags:
    """What a photo shows and how it may be seen."""

    site: BodySite
    laterality: Laterality
    aspect: Aspect | None = None
    """Which face of the site (the back of a forearm); None: not stated."""
    view: View | None
    description: str
    sensitive: bool
    """Restricted viewing (intimate images): shown blurred until the glass is broken."""
    recognizable: bool
    """A face or identifying mark is in the picture (Recognizable Visual Features)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureCommand:
    kind: ObjectKind
    source: Source
    patient: ConfirmedPatient
    encounter: str | None = None
    """The visit the user confirmed with the patient (a bedside session's); None: the patient's
    current visit when it is stored."""
    capture_id: str
    """The client's id for this object: a retry with it stores nothing new."""
    session_id: str | None = None
    """The capture session (bedside session, capture page, desk upload) it is filed with."""
    taken: TakenAt | None = None
    """When it was taken, and how that is known; None: from the photo itself (its EXIF), else
    the moment it arrives."""
    consent: ConsentAnswers | None = None
    """The consent asked for this capture; required for images."""
    consent_record_id: int | None = None
    """The consent already recorded (a bedside session's): the object refers to it."""
    tags: ImageTags | None = None
    """For images."""
    finding_id: int | None = None
    """For images: the wound or lesion it shows, one of the patient's findings (open, unless a
    correction carries the original's over); None: none."""
    title: str = ""
    """For documents."""
    allow_duplicate: bool = False
    """Store it even when the same file was already stored for this patient."""
