"""POST /api/v1/photos and /api/v1/documents: a file in, a DICOM object out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.command import Source
from pointcare.capture.pipeline import Stored
from pointcare.domain.objects import ObjectKind
from pointcare.runtime import Runtime
from pointcare.web.forms import CaptureForm, capture, command_of


@dataclass
class ObjectStored:
    capture_id: str | None
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    duplicate: bool
    """True when this file was already stored for the patient: these are that object's UIDs,
    and nothing new was stored (send ``allow_duplicate=true`` to store it again)."""


async def _store(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    form: CaptureForm,
    kind: ObjectKind,
) -> Response[ObjectStored]:
    command = command_of(form, kind=kind, source=Source.API)
    stored = await capture(
        runtime, principal, form, command, actor=audit.actor_of(request, principal)
    )
    return Response(_answer(stored), status_code=201 if stored.created else 200)


def _answer(stored: Stored) -> ObjectStored:
    return ObjectStored(
        stored.capture_id,
        stored.study_instance_uid,
        stored.series_instance_uid,
        stored.sop_instance_uid,
        stored.duplicate,
    )


@post("/api/v1/photos", tags=["photos"], status_code=201)
async def upload_photo(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[ObjectStored]:
    """Store one photo for a patient as a DICOM VL Photographic Image.

    The four consent fields are required: the patient's consent is asked every time, never
    assumed. Answers 201 with the new UIDs; 200 with the earlier ones when this ``capture_id``
    was stored before (a retry stores nothing new), or when the same file was already stored
    for this patient (``duplicate``).
    """
    return await _store(request, runtime, principal, data, ObjectKind.PHOTO)


@post("/api/v1/documents", tags=["documents"], status_code=201)
async def upload_document(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[ObjectStored]:
    """Store a PDF (a scanned consent form, a referral letter) for a patient as a DICOM
    Encapsulated PDF, with its ``title``. 201 with the new UIDs; 200 with the earlier ones for a
    repeated ``capture_id`` or the same file stored before."""
    return await _store(request, runtime, principal, data, ObjectKind.DOCUMENT)
