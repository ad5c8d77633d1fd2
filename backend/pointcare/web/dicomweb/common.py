"""What every DICOMweb route needs: the caller's Accept header, the service's own address, UIDs
checked before they reach a query, the break-the-glass check, the audit event of a retrieval,
and answers in DICOM JSON or the XML model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.dicom.json_model import JsonObject, encode
from pointcare.dicom.xml_model import to_xml
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.media import DICOM_XML, Representation
from pointcare.web.dicomweb.multipart import Part, multipart_response
from pointcare.web.dicomweb.rendering import RenderOptions, parse_render_options
from pointcare.web.dicomweb.uids import require_uid
from pointcare.web.dicomweb.wado import StoredObject
from pointcare.web.origin import public_origin

AnyRequest = Request[Any, Any, Any]

STUDY = "/studies/{study:str}"
SERIES = STUDY + "/series/{series:str}"
INSTANCE = SERIES + "/instances/{instance:str}"


def accept_of(request: AnyRequest) -> str | None:
    return request.headers.get("accept")


def service_of(request: AnyRequest) -> str:
    """The DICOMweb root written into answers (``pointcare.web.origin``: never the Host header)."""
    return links.service_url(public_origin(request))


def checked(
    study: str, series: str | None = None, instance: str | None = None
) -> tuple[str, str | None, str | None]:
    return (
        require_uid(study, "Study Instance UID"),
        None if series is None else require_uid(series, "Series Instance UID"),
        None if instance is None else require_uid(instance, "SOP Instance UID"),
    )


def require_unsealed(request: AnyRequest, db: Session, objects: list[StoredObject]) -> None:
    """403 for a sensitive photo without a break-the-glass grant (``pointcare.access``)."""
    glass.require_unsealed(db, request.user.user_id, [stored.sop_uid for stored in objects])


def audit_retrieval(
    request: AnyRequest, db: Session, runtime: Runtime, objects: list[StoredObject], via: str
) -> None:
    """One ``image.viewed`` event for the objects a request sends (a thumbnail only when no list
    showed it: a list's thumbnails are audited once, by the page that shows it)."""
    patient = audit.patient_of_study(db, objects[0].study_uid)
    uids = [stored.sop_uid for stored in objects]
    event = audit.image_viewed(audit.actor_of(request, request.user), patient, uids, via=via)
    audit.record_now(runtime.db, event)


def render_options(viewport: str | None, quality: str | None) -> RenderOptions:
    try:
        return parse_render_options(viewport, quality)
    except ValueError as exc:
        raise ClientException(detail=str(exc)) from None


def structured_answer(
    objects: Sequence[JsonObject],
    representation: Representation,
    runtime: Runtime,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """DICOM JSON (one array), or one XML document per part."""
    if representation.media_type != DICOM_XML:
        return Response(encode(objects), media_type=representation.media_type, headers=headers)
    parts = [Part.from_bytes(to_xml(item), DICOM_XML) for item in objects]
    stream = multipart_response(parts, part_type=DICOM_XML, limiter=runtime.transcode_limiter)
    stream.headers.update(headers or {})
    return stream
