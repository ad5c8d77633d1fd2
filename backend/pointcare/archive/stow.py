"""STOW-RS (PS3.18 10.5): the request body, and what the answer says about each instance.

An instance counts as stored only when the PACS names it in the Referenced SOP Sequence
(0008,1199) of a 200 or 202 answer and not in the Failed SOP Sequence (0008,1198): "clear a
delivery from the queue only for instances the PACS confirmed". Everything else is a failure
(the PACS refused it) or unconfirmed (no usable answer); both are retried. A 200 whose body
does not name an instance leaves that instance unconfirmed rather than trusting the status.

Each result carries its ``Cause``; two of them the forwarder acts on: a refusal of the whole
request (a 4xx naming no instance; Orthanc answers 400 for a batch with one object it cannot
read) is sent again one instance at a time, and a duplicate (Failure Reason 0111, or a 409
naming none) is checked by a search for the instance before it counts as delivered.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from pointcare.archive.protocol import (
    Cause,
    InstanceResult,
    Outcome,
    OutgoingInstance,
    StoreReport,
)
from pointcare.dicom import json_model
from pointcare.dicom.json_model import ReceivedObject
from pointcare.dicom.store_status import DUPLICATE_SOP_INSTANCE, status_meaning

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
DICOM_XML = "application/dicom+xml"

FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
WARNING_REASON = "00081196"


@dataclass(frozen=True, slots=True)
class StowRequest:
    parts: tuple[bytes, ...]
    """The body in pieces, in order: sent one after another, never joined (a batch of 12 MP
    photos is tens of megabytes, and joining them costs a copy of each)."""
    content_type: str

    @property
    def length(self) -> int:
        return sum(map(len, self.parts))

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)


def stow_request(instances: Sequence[OutgoingInstance]) -> StowRequest:
    """A ``multipart/related; type="application/dicom"`` body holding ``instances`` in order."""
    if not instances:
        raise ValueError("a STOW-RS request needs at least one instance")
    boundary = f"pointcare-{secrets.token_hex(16)}"
    pieces: list[bytes] = []
    for instance in instances:
        pieces.append(f"--{boundary}\r\nContent-Type: {DICOM}\r\n\r\n".encode("ascii"))
        pieces.append(instance.part10)
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode("ascii"))
    content_type = f'multipart/related; type="{DICOM}"; boundary={boundary}'
    return StowRequest(tuple(pieces), content_type)


def read_stow_response(
    status: int, content_type: str, body: bytes, sent: Sequence[str]
) -> StoreReport:
    """The result for each SOP Instance UID in ``sent``, from a STOW-RS answer."""
    answer = _parse_body(content_type, body)
    referenced = _by_uid(answer, REFERENCED_SOP_SEQUENCE, WARNING_REASON)
    failed = _by_uid(answer, FAILED_SOP_SEQUENCE, FAILURE_REASON)
    results: dict[str, InstanceResult] = {}
    for uid in sent:
        if uid in failed:
            reason = failed[uid]
            text = f"the PACS refused it: {status_meaning(reason)}" if reason else "refused"
            cause = Cause.DUPLICATE if reason == DUPLICATE_SOP_INSTANCE else Cause.REFUSED
            results[uid] = InstanceResult(Outcome.FAILED, f"HTTP {status}, {text}", cause)
        elif uid in referenced and status in (200, 202):
            warning = referenced[uid]
            note = f"stored with warning {status_meaning(warning)}" if warning else ""
            results[uid] = InstanceResult(Outcome.STORED, note)
        else:
            results[uid] = _unnamed(status, answer is not None)
    return StoreReport(results)


def _unnamed(status: int, answered: bool) -> InstanceResult:
    """The result of an instance the answer does not name."""
    if status in (200, 202):
        detail = "did not name it" if answered else "had no readable Store Instances Response"
        return InstanceResult(
            Outcome.UNCONFIRMED, f"HTTP {status}, but the PACS's answer {detail}", Cause.UNANSWERED
        )
    if status == 409:
        return InstanceResult(
            Outcome.FAILED, "HTTP 409 Conflict: the PACS stored none of them", Cause.CONFLICT
        )
    if 400 <= status < 500:
        return InstanceResult(
            Outcome.FAILED, f"HTTP {status}: the PACS refused the request", Cause.REQUEST_REFUSED
        )
    return InstanceResult(Outcome.UNCONFIRMED, f"HTTP {status} from the PACS", Cause.SERVER_ERROR)


def _parse_body(content_type: str, body: bytes) -> ReceivedObject | None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return None
    try:
        if media_type in (DICOM_XML, "application/xml", "text/xml"):
            return json_model.xml_to_json(body)
        objects = json_model.parse_json_objects(body)
    except ValueError:
        return None
    return objects[0] if len(objects) == 1 else None


def _by_uid(answer: ReceivedObject | None, sequence: str, reason_tag: str) -> dict[str, int]:
    """SOP Instance UID -> status code (0 when none) of each item of ``sequence``."""
    if answer is None:
        return {}
    found: dict[str, int] = {}
    for item in json_model.items(answer, sequence):
        uid = json_model.first_text(item, REFERENCED_SOP_INSTANCE_UID)
        if uid:
            found[uid] = json_model.first_int(item, reason_tag) or 0
    return found
