"""POST /api/v1/photos: a photo in, a DICOM object out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import anyio
from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.ingest import StoredPhoto
from pointcare.capture.submission import RawSubmission, check_submission
from pointcare.errors import InvalidInput, PayloadTooLarge
from pointcare.runtime import Runtime


@dataclass
class PhotoForm:
    """Multipart form fields. Booleans are ``true``/``false``; dates ISO 8601 with an offset."""

    file: UploadFile | None = None
    patient_id: str | None = None
    issuer: str | None = None
    body_site: str | None = None
    laterality: str | None = None
    view: str | None = None
    description: str | None = None
    consent_clinical: str | None = None
    consent_teaching: str | None = None
    consent_publication: str | None = None
    consent_method: str | None = None
    sensitive: str | None = None
    recognizable: str | None = None
    capture_id: str | None = None
    captured_at: str | None = None
    session_id: str | None = None


@dataclass
class PhotoStored:
    capture_id: str
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


def raw_submission(form: PhotoForm) -> RawSubmission:
    """The form's text fields, as the submission check takes them (the file travels apart)."""
    return RawSubmission(**{f.name: getattr(form, f.name) for f in fields(RawSubmission)})


async def store_photo(
    runtime: Runtime, principal: Principal, form: PhotoForm, *, actor: audit.Actor | None = None
) -> StoredPhoto:
    """Check the form, then ingest the photo off the event loop (shared with the capture page).

    ``actor`` (``audit.actor_of(request, principal)``) gives the audit trail the address."""
    if form.file is None or not isinstance(form.file, UploadFile):
        raise InvalidInput("Choose a photo to send.", errors={"file": "a photo file is required"})
    request = check_submission(raw_submission(form), now=datetime.now().astimezone())
    image = await form.file.read()
    if len(image) > runtime.settings.max_upload_bytes:
        raise PayloadTooLarge("The photo is larger than this server accepts.")
    ingest = partial(runtime.ingest.store, principal, request, image, actor=actor)
    # Not under runtime.image_limiter: the ingest bounds its decoding itself (image_slots), so
    # that a photo waiting for the database or an fsync does not hold a core's slot.
    return await anyio.to_thread.run_sync(ingest)


@post("/api/v1/photos", tags=["photos"], status_code=201)
async def upload_photo(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[PhotoForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[PhotoStored]:
    """Store one photo for a patient as a DICOM VL Photographic Image.

    Answers 201 with the new UIDs, or 200 with the earlier ones when this ``capture_id`` was
    stored before (a retry stores nothing new).
    """
    stored = await store_photo(runtime, principal, data, actor=audit.actor_of(request, principal))
    body = PhotoStored(
        stored.capture_id,
        stored.study_instance_uid,
        stored.series_instance_uid,
        stored.sop_instance_uid,
    )
    return Response(body, status_code=201 if stored.created else 200)
