"""POST /api/v1/documents: a PDF in, a DICOM Encapsulated PDF out, in the patient's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.capture.documents import DocumentRequest, store_document
from pointcare.errors import InvalidInput, PayloadTooLarge
from pointcare.runtime import Runtime


@dataclass
class DocumentForm:
    """Multipart form fields."""

    file: UploadFile | None = None
    patient_id: str | None = None
    issuer: str | None = None
    title: str | None = None
    capture_id: str | None = None
    session_id: str | None = None


@dataclass
class DocumentStored:
    capture_id: str
    study_instance_uid: str
    sop_instance_uid: str


@post("/api/v1/documents", tags=["documents"], status_code=201)
async def upload_document(
    request: Request[Principal, Any, Any],
    runtime: Runtime,
    principal: Principal,
    data: Annotated[DocumentForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[DocumentStored]:
    """Store a PDF (a scanned consent form, a referral letter) for a patient as a DICOM
    Encapsulated PDF. 201 with the new UIDs; 200 with the earlier ones for a repeated
    ``capture_id``."""
    if data.file is None or not isinstance(data.file, UploadFile):
        raise InvalidInput("Choose a PDF to send.", errors={"file": "a PDF file is required"})
    parsed = DocumentRequest.parse(
        patient_mrn=data.patient_id or "",
        issuer=data.issuer,
        title=data.title or "",
        capture_id=data.capture_id or "",
        session_id=data.session_id,
        now=datetime.now().astimezone(),
    )
    pdf = await data.file.read()
    if len(pdf) > runtime.settings.max_upload_bytes:
        raise PayloadTooLarge("The document is larger than this server accepts.")
    stored = await anyio.to_thread.run_sync(
        store_document, runtime, principal, audit.actor_of(request, principal), parsed, pdf
    )
    body = DocumentStored(stored.capture_id, stored.study_instance_uid, stored.sop_instance_uid)
    return Response(body, status_code=201 if stored.created else 200)
