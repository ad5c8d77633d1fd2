"""A file looked at before it is stored: what a page shows the user to check first.

Desk upload sends each file here as it is chosen: the page then shows when the photo was taken
(or says the photo does not say, and asks the user to check the file's date), whether the very
same file is already in this patient's record, and a preview it can draw (browsers cannot draw
HEIC). Nothing is stored, and nothing of the file is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pointcare.auth.principal import Principal
from pointcare.capture.command import ConfirmedPatient
from pointcare.capture.rejections import image_refused
from pointcare.capture.service import CaptureService, patient_for, photo_moment, same_file
from pointcare.db.models import Instance
from pointcare.domain.clock import TakenAt
from pointcare.imaging.formats import sniff
from pointcare.imaging.photo import PhotoRejected, preview


@dataclass(frozen=True, slots=True)
class AlreadyStored:
    sop_instance_uid: str
    stored_at: datetime
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class Inspection:
    is_image: bool
    taken: TakenAt | None
    """When the photo says it was taken; None when it does not say (or is no photo)."""
    already_stored: AlreadyStored | None
    preview: bytes | None
    """A JPEG thumbnail of an image."""


def inspect(
    capture: CaptureService, who: Principal, patient: ConfirmedPatient, content: bytes
) -> Inspection:
    """What the user should see of ``content`` before sending it for ``patient``."""
    content_sha256 = hashlib.sha256(content).hexdigest()
    with capture.db.session() as session:
        found = patient_for(session, who, patient)
        earlier: Instance | None = same_file(session, found, content_sha256)
        already = (
            AlreadyStored(earlier.sop_instance_uid, earlier.created_at, earlier.taken_at)
            if earlier is not None
            else None
        )
    if sniff(content) is None:  # a PDF, or nothing we take: only whether it was sent before
        return Inspection(False, None, already, None)
    try:
        with capture.image_slots:
            thumbnail = preview(content, max_pixels=capture.limits.max_image_pixels)
    except PhotoRejected as exc:
        raise image_refused(exc, "file") from None
    return Inspection(True, photo_moment(content), already, thumbnail)
