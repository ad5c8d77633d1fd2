"""Add images from the desk: many files at once (JPEG, PNG, HEIC, TIFF photos, MP4, MOV and WebM
clips), one set of tags for all or per file, each sent with its own progress through the same
API as the bedside. Photos with the dermoscopic view (from a dermatoscope) are stored as
Dermoscopic Photography images.

The page is the patient's (banner always shown): the files go to this patient only. Each file
gets a capture id when it is chosen, so a retry after a network failure never stores it twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare.domain.consent import ConsentMethod
from pointcare.runtime import Runtime
from pointcare.web.pages.capture import SITE_GROUPS
from pointcare.web.pages.common import clock_label, load_patient, page, record_opened

ACCEPTED = (
    "image/jpeg,image/png,image/heic,image/heif,image/tiff,application/pdf,"
    "video/mp4,video/quicktime,video/webm,"
    ".heic,.heif,.tif,.tiff,.pdf,.mp4,.m4v,.mov,.webm"
)
MAX_FILES = 50


@get("/patients/{mrn:str}/upload", sync_to_thread=True, include_in_schema=False)
def upload_page(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    record_opened(request, runtime, context, page="upload")
    return page(
        "pages/upload.html",
        **context.as_context(),
        site_groups=SITE_GROUPS,
        consent_methods=list(ConsentMethod),
        session_id=str(uuid.uuid4()),
        accepted=ACCEPTED,
        max_files=MAX_FILES,
        clip_limit=clock_label(runtime.settings.video_max_seconds),
    )
