"""The body of a STOW-RS request (PS3.18 10.5.1): a ``multipart/related`` of binary DICOM objects,
or of DICOM JSON metadata and the JPEG bulk data it names (the IHE WIC form).

The body is parsed by the standard library's MIME parser; each object is then read (and refused
on its own when bad) by ``intake.received``. A body that is not a readable ``multipart/related``
of a taken type is refused as a whole: 415 for the media type, 400 for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from pointcare.dicom import store_status as status
from pointcare.errors import InvalidInput, UnsupportedMediaType
from pointcare.intake.received import (
    Identified,
    ReceivedObject,
    Refused,
    from_metadata_and_jpeg,
    read_part10,
)
from pointcare.intake.received import identify as identify_part10
from pointcare.intake.service import Refusal, refusal
from pointcare.web.dicomweb.media import (
    DICOM,
    DICOM_JSON,
    JPEG,
    MULTIPART_RELATED,
    MediaRange,
    parse_accept,
)

TAKEN = (DICOM, DICOM_JSON)


@dataclass(frozen=True, slots=True)
class BodyPart:
    content_type: str
    location: str | None
    data: bytes


def parse_related(content_type: str, body: bytes) -> tuple[str, list[BodyPart]]:
    """The root ``type`` and the parts of a ``multipart/related`` body."""
    [declared] = parse_accept(content_type)[:1] or [MediaRange("")]
    root = declared.params.get("type", "").lower()
    if declared.media_type != MULTIPART_RELATED or root not in TAKEN:
        raise UnsupportedMediaType(
            f'Send multipart/related; type="{DICOM}" (binary DICOM objects) or '
            f'type="{DICOM_JSON}" (JSON metadata with JPEG bulk data).'
        )
    if not declared.params.get("boundary"):
        raise InvalidInput("The multipart/related Content-Type names no boundary.")
    message = BytesParser(policy=compat32).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    payload = message.get_payload() if message.is_multipart() else None
    if not isinstance(payload, list) or not payload:
        raise InvalidInput("The body holds no parts of the multipart/related it declares.")
    return root, [_part(part, root) for part in payload if isinstance(part, Message)]


def _part(part: Message, root: str) -> BodyPart:
    data = part.get_payload(decode=True)
    return BodyPart(
        content_type=(part.get_content_type() if part["Content-Type"] else root).lower(),
        location=part["Content-Location"],
        data=data if isinstance(data, bytes) else b"",
    )


def received_objects(
    content_type: str, body: bytes, *, max_pixels: int
) -> list[ReceivedObject | Refusal]:
    """Each object of the request, read and checked, or refused on its own."""
    root, parts = parse_related(content_type, body)
    if root == DICOM:
        return list(_binary(parts, max_pixels=max_pixels))
    return list(_metadata_and_bulk(parts, max_pixels=max_pixels))


def _binary(parts: list[BodyPart], *, max_pixels: int) -> Iterator[ReceivedObject | Refusal]:
    for part in parts:
        if part.content_type != DICOM:
            yield refusal(
                Identified(),
                Refused(
                    status.CANNOT_UNDERSTAND,
                    f"A part of type {part.content_type} in a request of {DICOM}.",
                ),
            )
            continue
        try:
            yield read_part10(part.data, max_pixels=max_pixels)
        except Refused as refused:
            yield refusal(identify_part10(part.data), refused)


def _metadata_and_bulk(
    parts: list[BodyPart], *, max_pixels: int
) -> Iterator[ReceivedObject | Refusal]:
    bulk = {
        part.location: part.data for part in parts if part.location and part.content_type == JPEG
    }
    datasets = []
    for part in parts:
        if part.content_type != DICOM_JSON:
            continue
        try:
            found = json.loads(part.data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"A {DICOM_JSON} part is not JSON: {exc}") from None
        datasets.extend(found if isinstance(found, list) else [found])
    if not datasets:
        raise InvalidInput(f"The request holds no {DICOM_JSON} metadata.")
    for metadata in datasets:
        identified = _identified(metadata)
        if not isinstance(metadata, dict):
            yield refusal(
                identified, Refused(0xC000, "A metadata item is not a DICOM JSON object.")
            )
            continue
        try:
            yield from_metadata_and_jpeg(metadata, bulk, max_pixels=max_pixels)
        except Refused as refused:
            yield refusal(identified, refused)


def _identified(metadata: object) -> Identified:
    def first(tag: str) -> str:
        if not isinstance(metadata, dict):
            return ""
        values = (
            metadata.get(tag, {}).get("Value", []) if isinstance(metadata.get(tag), dict) else []
        )
        return str(values[0]) if values else ""

    return Identified(first("00080016"), first("00080018"))
