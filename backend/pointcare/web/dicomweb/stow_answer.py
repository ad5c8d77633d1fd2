"""The answer to a STOW-RS request (PS3.18 10.5.3): a Store Instances Response data set.

Every object the request brought is named: stored ones in the Referenced SOP Sequence (with
their Retrieve URL), refused ones in the Failed SOP Sequence with a Failure Reason code and, in
Error Comment (0000,0902), the reason in words (the sender's integrator reads it; it may be
longer than LO's 64 characters). The status: 200 when every object is stored, 202 when some are
and some are refused, 409 when none is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pointcare.dicom.json_model import JsonObject, to_dicom_json
from pointcare.intake.received import Identified
from pointcare.intake.service import Refusal
from pointcare.web.dicomweb import links

OK, ACCEPTED, CONFLICT = 200, 202, 409


@dataclass(frozen=True, slots=True)
class StoredInstance:
    """An object the archive holds after the request (stored now, or before, byte for byte)."""

    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str


def stow_answer(
    stored: Sequence[StoredInstance],
    refused: Sequence[Refusal],
    *,
    service: str,
    target_study: str | None,
) -> tuple[int, JsonObject]:
    """The status and the Store Instances Response of a request."""
    studies = {item.study_instance_uid for item in stored}
    study = target_study or (next(iter(studies)) if len(studies) == 1 else None)
    attributes: dict[str, Any] = {}
    if study is not None:
        attributes["RetrieveURL"] = links.study_url(service, study)
    if refused:
        attributes["FailedSOPSequence"] = [_failed(item) for item in refused]
    if stored:
        attributes["ReferencedSOPSequence"] = [_referenced(item, service) for item in stored]
    status = OK if not refused else ACCEPTED if stored else CONFLICT
    return status, to_dicom_json(attributes)


def _referenced(item: StoredInstance, service: str) -> dict[str, Any]:
    return {
        "ReferencedSOPClassUID": item.sop_class_uid,
        "ReferencedSOPInstanceUID": item.sop_instance_uid,
        "RetrieveURL": links.instance_url(
            service, item.study_instance_uid, item.series_instance_uid, item.sop_instance_uid
        ),
    }


def _failed(item: Refusal) -> dict[str, Any]:
    identified: Identified = item.identified
    return {
        "ReferencedSOPClassUID": identified.sop_class_uid or None,
        "ReferencedSOPInstanceUID": identified.sop_instance_uid or None,
        "FailureReason": item.code,
        "ErrorComment": item.reason,
    }
