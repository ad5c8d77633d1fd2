"""POST /api/v1/photos, /api/v1/videos and /api/v1/documents: a file in, a DICOM object out;
and /api/v1/photos/inspect, a file looked at before it is sent."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio
from litestar import Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.command import ConfirmedPatient, Source
from pointcare.capture.inspection import inspect
from pointcare.capture.pipeline import Stored
from pointcare.domain.objects import ObjectKind
from pointcare.errors import InvalidInput, PayloadTooLarge
from pointcare.runtime import Runtime
from pointcare.web.forms import NO_FILE, CaptureForm, capture, command_of
from pointcare.web.limits import CLIP_UPLOAD_ROUTE, UPLOAD_ROUTE


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


@post("/api/v1/photos", tags=["photos"], status_code=201, opt=UPLOAD_ROUTE)
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


@post("/api/v1/videos", tags=["photos"], status_code=201, opt=CLIP_UPLOAD_ROUTE)
async def upload_video(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[ObjectStored]:
    """Store one video clip (MP4, MOV or WebM) for a patient as a DICOM Video Photographic
    Image, with the fields of a photo.

    A conformant H.264 High Profile stream is kept as it is; anything else is converted to it.
    Location, device and other metadata are dropped, the rotation is applied, sound is not kept.
    201 with the new UIDs, 200 for a repeated ``capture_id`` (nothing converted again) or the
    same file stored before; 413 over the duration or size limit, 415 for a file that is no
    clip, 422 for a damaged one or sound without picture, 503 when every conversion slot stays
    busy (send it again)."""
    return await _store(request, runtime, principal, data, ObjectKind.VIDEO)


@post("/api/v1/documents", tags=["documents"], status_code=201, opt=UPLOAD_ROUTE)
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


@dataclass
class StoredBefore:
    sop_instance_uid: str
    stored_at: datetime
    taken_at: datetime


@dataclass
class Looked:
    """What to show of a file before it is sent."""

    is_image: bool
    taken_at: datetime | None
    """When the photo says it was taken (EXIF); null: the photo does not say."""
    already_stored: StoredBefore | None
    """The same file is already in this patient's record: since when."""
    preview: str | None
    """A small upright JPEG of an image, as a data URL (browsers cannot draw HEIC)."""


@post("/api/v1/photos/inspect", tags=["photos"], status_code=200, opt=UPLOAD_ROUTE)
async def inspect_photo(
    runtime: Runtime,
    principal: Principal,
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[Looked]:
    """Look at a file before sending it for a patient (``patient_id``, ``issuer``): when the
    photo says it was taken, whether the same file is already stored, a preview. Nothing is
    stored."""
    chosen = data.chosen()
    if chosen is None:
        raise InvalidInput(NO_FILE[ObjectKind.PHOTO], errors={"file": "a file is required"})
    if not (data.patient_id or "").strip():
        raise InvalidInput("Say for which patient.", errors={"patient_id": "required"})
    content = await chosen.read()
    if not content:
        raise InvalidInput("The file is empty.", errors={"file": "the file is empty"})
    if len(content) > runtime.settings.max_upload_bytes:
        raise PayloadTooLarge("The file is larger than this server accepts.")
    patient = ConfirmedPatient(mrn=data.patient_id or "", issuer=data.issuer or None)
    looked = await anyio.to_thread.run_sync(
        partial(inspect, runtime.capture, principal, patient, content)
    )
    earlier = looked.already_stored
    before = (
        StoredBefore(earlier.sop_instance_uid, earlier.stored_at, earlier.taken_at)
        if earlier is not None
        else None
    )
    preview = (
        "data:image/jpeg;base64," + base64.b64encode(looked.preview).decode()
        if looked.preview is not None
        else None
    )
    taken_at = looked.taken.moment if looked.taken is not None else None
    body = Looked(looked.is_image, taken_at, before, preview)
    return Response(body, headers={"Cache-Control": "no-store"})
