"""WADO-RS routes (PS3.18 10.4): objects, metadata, frames and bulk data.

Each handler checks the path UIDs, finds the objects, refuses sealed sensitive photos (403),
negotiates the representation, audits what is sent and streams it (``wado``). Errors are
raised, never answered here: ``pointcare.web.problems`` turns them into problem JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Response, get
from litestar.response import Stream
from sqlalchemy.orm import Session

from pointcare.auth.principal import Principal
from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links, wado
from pointcare.web.dicomweb.common import (
    INSTANCE,
    SERIES,
    STUDY,
    AnyRequest,
    accept_of,
    audit_retrieval,
    checked,
    require_unsealed,
    service_of,
    structured_answer,
)
from pointcare.web.dicomweb.media import (
    DICOM,
    choose_document,
    choose_frames,
    choose_objects,
    choose_structured,
)
from pointcare.web.dicomweb.multipart import Part, parts_response
from pointcare.web.security import REVIEW

log = logging.getLogger(__name__)


def _retrieve(
    request: AnyRequest, db: Session, runtime: Runtime, principal: Principal, *uids: str
) -> Stream:
    objects = wado.locate(db, *checked(*uids))
    require_unsealed(request, db, objects)
    representation = choose_objects(
        accept_of(request),
        stored={stored.transfer_syntax_uid for stored in objects},
        convertible=wado.convertible(objects),
        single=len(uids) == 3,
    )
    log.info(
        "dicomweb retrieve user_id=%s uids=%s instances=%d transfer_syntax=%s",
        principal.user_id,
        "/".join(uids),
        len(objects),
        representation.transfer_syntax or "as stored",
    )
    parts = wado.object_parts(runtime.instances, objects, representation)
    audit_retrieval(request, db, runtime, objects, "wado-rs")
    return parts_response(
        parts,
        multipart=representation.multipart,
        part_type=DICOM,
        limiter=runtime.transcode_limiter,
    )


def _metadata(request: AnyRequest, db: Session, runtime: Runtime, *uids: str) -> Response[Any]:
    representation = choose_structured(accept_of(request))
    objects = wado.locate(db, *checked(*uids))
    found = wado.metadata(runtime.instances, objects, service=service_of(request))
    audit_retrieval(request, db, runtime, objects, "wado-rs metadata")
    return structured_answer(found, representation, runtime)


def _frames(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    uids: tuple[str, str, str],
    numbers: list[int] | None,
) -> Stream:
    """Frames ``numbers`` of an instance (all of them for None: its Pixel Data bulk data)."""
    [stored] = wado.locate(db, *checked(*uids))
    require_unsealed(request, db, [stored])
    if numbers is None:
        numbers = list(range(1, wado.frame_count(runtime.instances, stored) + 1))
    representation = choose_frames(
        accept_of(request),
        stored=stored.transfer_syntax_uid,
        stored_media_type=wado.stored_frame_type(stored),
        single=len(numbers) == 1,
    )
    parts = wado.frame_parts(runtime.instances, stored, numbers, representation)
    audit_retrieval(request, db, runtime, [stored], "wado-rs frames")
    return parts_response(
        parts,
        multipart=representation.multipart,
        part_type=representation.media_type,
        limiter=runtime.transcode_limiter,
    )


def _document(
    request: AnyRequest, db: Session, runtime: Runtime, uids: tuple[str, str, str]
) -> Stream:
    """The encapsulated document of an instance (its Encapsulated Document bulk data)."""
    [stored] = wado.locate(db, *checked(*uids))
    require_unsealed(request, db, [stored])
    data, mime_type = wado.document(runtime.instances, stored)
    representation = choose_document(accept_of(request), mime_type)
    audit_retrieval(request, db, runtime, [stored], "wado-rs bulkdata")
    return parts_response(
        [Part.from_bytes(data, representation.media_type)],
        multipart=representation.multipart,
        part_type=representation.media_type,
        limiter=runtime.transcode_limiter,
    )


class RetrieveController(Controller):
    path = links.PREFIX
    guards = [REVIEW]  # noqa: RUF012 - Litestar reads these class attributes
    tags = ["dicomweb"]  # noqa: RUF012

    # --- Objects ------------------------------------------------------------------------------

    @get(STUDY, sync_to_thread=True)
    def retrieve_study(
        self, request: AnyRequest, db: Session, runtime: Runtime, principal: Principal, study: str
    ) -> Stream:
        """Every object of a study, ``multipart/related; type="application/dicom"``: Explicit VR
        Little Endian by default, as stored with ``transfer-syntax=*``."""
        return _retrieve(request, db, runtime, principal, study)

    @get(SERIES, sync_to_thread=True)
    def retrieve_series(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        principal: Principal,
        study: str,
        series: str,
    ) -> Stream:
        """Every object of a series."""
        return _retrieve(request, db, runtime, principal, study, series)

    @get(INSTANCE, sync_to_thread=True)
    def retrieve_instance(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        principal: Principal,
        study: str,
        series: str,
        instance: str,
    ) -> Stream:
        """One object (also as a bare ``application/dicom``)."""
        return _retrieve(request, db, runtime, principal, study, series, instance)

    # --- Metadata -----------------------------------------------------------------------------

    @get(STUDY + "/metadata", sync_to_thread=True)
    def study_metadata(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str
    ) -> Response[Any]:
        """The header of every object of a study in DICOM JSON (bulk data as links), or XML."""
        return _metadata(request, db, runtime, study)

    @get(SERIES + "/metadata", sync_to_thread=True)
    def series_metadata(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str, series: str
    ) -> Response[Any]:
        """The header of every object of a series."""
        return _metadata(request, db, runtime, study, series)

    @get(INSTANCE + "/metadata", sync_to_thread=True)
    def instance_metadata(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
    ) -> Response[Any]:
        """The header of one object."""
        return _metadata(request, db, runtime, study, series, instance)

    # --- Frames and bulk data -----------------------------------------------------------------

    @get(INSTANCE + "/frames/{frames:str}", sync_to_thread=True)
    def retrieve_frames(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        frames: str,
    ) -> Stream:
        """Frames, uncompressed (``application/octet-stream``) by default, or as stored."""
        numbers = wado.parse_frame_numbers(frames)
        return _frames(request, db, runtime, (study, series, instance), numbers)

    @get(INSTANCE + "/bulkdata/{tag:str}", sync_to_thread=True)
    def retrieve_bulkdata(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        tag: str,
    ) -> Stream:
        """The bulk data that metadata links to: Pixel Data (every frame) or the document."""
        uids = (study, series, instance)
        if tag.upper() == wado.PIXEL_DATA:
            return _frames(request, db, runtime, uids, None)
        if tag.upper() == wado.ENCAPSULATED_DOCUMENT:
            return _document(request, db, runtime, uids)
        raise NotFound(
            f"Bulk data is served for Pixel Data ({wado.PIXEL_DATA}) and Encapsulated Document "
            f"({wado.ENCAPSULATED_DOCUMENT}), not {tag[:16]!r}."
        )
