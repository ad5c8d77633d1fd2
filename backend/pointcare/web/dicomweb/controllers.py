"""DICOMweb routes (PS3.18): QIDO-RS search and WADO-RS retrieval, for clinicians and admins.

Each handler checks the path UIDs, negotiates the answer's media type, and calls one function of
``qido`` or ``wado``. Errors are raised, never answered here: ``pointcare.web.problems`` turns
them into problem JSON.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Controller, Request, Response, get
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Stream
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.access.blur import blurred_jpeg
from pointcare.auth.principal import Principal
from pointcare.db.models import Patient
from pointcare.dicom.json_model import encode
from pointcare.dicom.video import VIDEO_TRANSFER_SYNTAXES
from pointcare.errors import NotFound
from pointcare.launch.binding import openable_patient_ids
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links, wado
from pointcare.web.dicomweb.clips import MP4, clip_answer
from pointcare.web.dicomweb.matching import Level, parse_search
from pointcare.web.dicomweb.media import (
    DICOM,
    DICOM_JSON,
    JPEG,
    JSON,
    require_multipart,
    require_single,
)
from pointcare.web.dicomweb.multipart import Part, multipart_response
from pointcare.web.dicomweb.qido import Scope, run_search
from pointcare.web.dicomweb.rendering import RenderOptions, parse_render_options, render_jpeg
from pointcare.web.dicomweb.uids import require_uid
from pointcare.web.security import REVIEW

log = logging.getLogger(__name__)

DICOM_JSON_ANSWER = {
    200: ResponseSpec(
        data_container=list[dict[str, Any]],
        media_type=DICOM_JSON,
        description="DICOM JSON (PS3.18 F.2): an array with one object per match or instance.",
        generate_examples=False,
    )
}

AnyRequest = Request[Any, Any, Any]

STUDY = "/studies/{study:str}"
SERIES = STUDY + "/series/{series:str}"
INSTANCE = SERIES + "/instances/{instance:str}"


def _accept(request: AnyRequest) -> str | None:
    return request.headers.get("accept")


def _service(request: AnyRequest) -> str:
    """The DICOMweb root written into answers: the configured public URL, else the request's."""
    runtime: Runtime = request.app.state.runtime
    return links.service_url(runtime.settings.public_url or str(request.base_url))


def _checked(
    study: str, series: str | None = None, instance: str | None = None
) -> tuple[str, str | None, str | None]:
    return (
        require_uid(study, "Study Instance UID"),
        None if series is None else require_uid(series, "Series Instance UID"),
        None if instance is None else require_uid(instance, "SOP Instance UID"),
    )


def _json_media_type(request: AnyRequest) -> str:
    return require_single(_accept(request), DICOM_JSON, JSON)


def _search(request: AnyRequest, db: Session, level: Level, scope: Scope) -> Response[bytes]:
    media_type = _json_media_type(request)
    search = parse_search(request.query_params.multi_items(), level)
    openable = openable_patient_ids(db, request.user)
    if openable is not None:  # a session opened from the EHR searches only its patients
        search.conditions.append(Patient.id.in_(openable))
    service = _service(request)
    result = run_search(db, search, scope, service=service)
    warnings = list(search.warnings)
    if result.more:
        warnings.append("There are additional results that can be requested.")
    headers = {}
    if warnings:
        headers["Warning"] = ", ".join(f"299 {service}: {text}" for text in warnings)
    _audit_search(request, db, level, scope, result.objects)
    # 200 with [] when nothing matches: RFC 9110 and DICOM CP-2473 (204 would carry no body).
    return Response(encode(result.objects), media_type=media_type, headers=headers)


def _audit_search(
    request: AnyRequest, db: Session, level: Level, scope: Scope, objects: list[Any]
) -> None:
    """One ``patient.search`` event per search, listing the patients whose objects it
    returned (a ``PatientName=*`` search included): named in the answer itself, or, within one
    study, the study's patient."""
    patients = {(_value(o, "00100020"), _value(o, "00100021")) for o in objects}
    if scope.study_uid is not None and objects:
        owner = audit.patient_of_study(db, scope.study_uid)
        patients = {(owner.mrn, owner.issuer)} if owner is not None else set()
    event = audit.dicomweb_search(
        audit.actor_of(request, request.user),
        parameters=request.query_params.keys(),
        patients=[(mrn, issuer) for mrn, issuer in patients if mrn],
        level=level.name.lower(),
        results=len(objects),
    )
    runtime: Runtime = request.app.state.runtime
    audit.record_now(runtime.db, event)


def _value(dataset: dict[str, Any], tag: str) -> str | None:
    values = dataset.get(tag, {}).get("Value") or [None]
    return str(values[0]) if values[0] is not None else None


def _retrieve(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    principal: Principal,
    *uids: str,
) -> Stream:
    objects = wado.locate(db, *_checked(*uids))
    _require_unsealed(request, db, objects)
    require_multipart(
        _accept(request),
        part_type=DICOM,
        transfer_syntaxes={stored.transfer_syntax_uid for stored in objects},
        default_part_type=DICOM,
    )
    log.info(
        "dicomweb retrieve user_id=%s uids=%s instances=%d",
        principal.user_id,
        "/".join(uids),
        len(objects),
    )
    _audit_retrieval(request, db, runtime, objects, "wado-rs")
    return multipart_response(wado.dicom_parts(runtime.instances, objects), part_type=DICOM)


def _require_unsealed(request: AnyRequest, db: Session, objects: list[wado.StoredObject]) -> None:
    """403 for a sensitive photo without a break-the-glass grant (``pointcare.access``)."""
    glass.require_unsealed(db, request.user.user_id, [stored.sop_uid for stored in objects])


def _audit_retrieval(
    request: AnyRequest, db: Session, runtime: Runtime, objects: list[wado.StoredObject], via: str
) -> None:
    """One ``image.viewed`` event for the objects a request sends (a thumbnail only when no list
    showed it: a list's thumbnails are audited once, by the page that shows it)."""
    patient = audit.patient_of_study(db, objects[0].study_uid)
    uids = [stored.sop_uid for stored in objects]
    event = audit.image_viewed(audit.actor_of(request, request.user), patient, uids, via=via)
    audit.record_now(runtime.db, event)


def _metadata(request: AnyRequest, db: Session, runtime: Runtime, *uids: str) -> Response[bytes]:
    media_type = _json_media_type(request)
    objects = wado.locate(db, *_checked(*uids))
    body = encode(wado.metadata(runtime.instances, objects, service=_service(request)))
    _audit_retrieval(request, db, runtime, objects, "wado-rs metadata")
    return Response(body, media_type=media_type)


def _render_options(viewport: str | None, quality: str | None) -> RenderOptions:
    try:
        return parse_render_options(viewport, quality)
    except ValueError as exc:
        raise ClientException(detail=str(exc)) from None


async def _thumbnail(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    options: RenderOptions,
    *uids: str,
) -> Response[bytes]:
    require_single(_accept(request), JPEG)
    checked = _checked(*uids)

    def stored_thumbnail() -> tuple[bytes, bool]:
        """The stored thumbnail, and whether it is sealed for this user: one trip to a worker
        thread for the index and the small file (a thumbnail is fetched by the hundred). A
        thumbnail no list showed this user lately is audited as a view of its own."""
        [first] = wado.locate(db, *checked, first_only=True, images_only=True)
        if first.thumbnail_path is None:  # pragma: no cover - images have thumbnails
            raise NotFound("This object has no thumbnail.")
        sealed = first.sensitive and not glass.has_grant(db, request.user.user_id, first.patient_id)
        shown = {first.sop_uid, *(uid for uid in checked if uid)}
        if not audit.shown_in_a_list(db, request.user.user_id, first.patient_id, shown):
            _audit_retrieval(request, db, runtime, [first], "wado-rs thumbnail")
        return runtime.files.read(first.thumbnail_path), sealed

    body, sealed = await anyio.to_thread.run_sync(stored_thumbnail)
    if sealed or not options.as_stored:
        # Lists show sensitive photos blurred, unless the glass was broken.
        body = await anyio.to_thread.run_sync(
            _rendered, body, options, sealed, limiter=runtime.image_limiter
        )
    return Response(body, media_type=JPEG)


async def _rendered_clip(
    request: AnyRequest, db: Session, runtime: Runtime, stored: wado.StoredObject
) -> Stream:
    """A clip for a ``<video>`` element. A player asks for many ranges of one clip: only the
    first (from byte 0) is audited as a viewing."""
    require_single(_accept(request), MP4)
    await anyio.to_thread.run_sync(_require_unsealed, request, db, [stored])
    source = await anyio.to_thread.run_sync(
        runtime.instances.part10, stored.ref, stored.storage_path
    )
    wanted = request.headers.get("range")
    answer = await anyio.to_thread.run_sync(clip_answer, source, wanted)
    if answer.status_code == 200 or (wanted or "").replace(" ", "").startswith("bytes=0-"):
        await anyio.to_thread.run_sync(
            _audit_retrieval, request, db, runtime, [stored], "wado-rs rendered"
        )
    return answer


def _rendered(thumbnail: bytes, options: RenderOptions, sealed: bool) -> bytes:
    body = render_jpeg(thumbnail, options)
    return blurred_jpeg(body) if sealed else body


class DicomwebController(Controller):
    path = links.PREFIX
    guards = [REVIEW]  # noqa: RUF012 - Litestar reads these class attributes
    tags = ["dicomweb"]  # noqa: RUF012

    # --- QIDO-RS ------------------------------------------------------------------------------

    @get("/studies", sync_to_thread=True, media_type=DICOM_JSON, responses=DICOM_JSON_ANSWER)
    def search_studies(self, request: AnyRequest, db: Session) -> Response[bytes]:
        """Search for studies (QIDO-RS); answers ``application/dicom+json``."""
        return _search(request, db, Level.STUDY, Scope())

    @get("/series", sync_to_thread=True, media_type=DICOM_JSON, responses=DICOM_JSON_ANSWER)
    def search_series(self, request: AnyRequest, db: Session) -> Response[bytes]:
        """Search for series in all studies (QIDO-RS)."""
        return _search(request, db, Level.SERIES, Scope())

    @get("/instances", sync_to_thread=True, media_type=DICOM_JSON, responses=DICOM_JSON_ANSWER)
    def search_instances(self, request: AnyRequest, db: Session) -> Response[bytes]:
        """Search for instances in all studies (QIDO-RS)."""
        return _search(request, db, Level.INSTANCE, Scope())

    @get(STUDY + "/series", sync_to_thread=True, media_type=DICOM_JSON, responses=DICOM_JSON_ANSWER)
    def search_study_series(self, request: AnyRequest, db: Session, study: str) -> Response[bytes]:
        """Search for the series of a study (QIDO-RS)."""
        return _search(request, db, Level.SERIES, Scope(_checked(study)[0]))

    @get(
        STUDY + "/instances",
        sync_to_thread=True,
        media_type=DICOM_JSON,
        responses=DICOM_JSON_ANSWER,
    )
    def search_study_instances(
        self, request: AnyRequest, db: Session, study: str
    ) -> Response[bytes]:
        """Search for the instances of a study (QIDO-RS)."""
        return _search(request, db, Level.INSTANCE, Scope(_checked(study)[0]))

    @get(
        SERIES + "/instances",
        sync_to_thread=True,
        media_type=DICOM_JSON,
        responses=DICOM_JSON_ANSWER,
    )
    def search_series_instances(
        self, request: AnyRequest, db: Session, study: str, series: str
    ) -> Response[bytes]:
        """Search for the instances of a series (QIDO-RS)."""
        study_uid, series_uid, _ = _checked(study, series)
        return _search(request, db, Level.INSTANCE, Scope(study_uid, series_uid))

    # --- WADO-RS: objects ---------------------------------------------------------------------

    @get(STUDY, sync_to_thread=True)
    def retrieve_study(
        self, request: AnyRequest, db: Session, runtime: Runtime, principal: Principal, study: str
    ) -> Stream:
        """Every stored object of a study, ``multipart/related; type="application/dicom"``."""
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
        """Every stored object of a series, as stored."""
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
        """One stored object, byte for byte as archived."""
        return _retrieve(request, db, runtime, principal, study, series, instance)

    # --- WADO-RS: metadata --------------------------------------------------------------------

    @get(
        STUDY + "/metadata", sync_to_thread=True, media_type=DICOM_JSON, responses=DICOM_JSON_ANSWER
    )
    def study_metadata(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str
    ) -> Response[bytes]:
        """The header of every object of a study in DICOM JSON (Pixel Data as a link)."""
        return _metadata(request, db, runtime, study)

    @get(
        SERIES + "/metadata",
        sync_to_thread=True,
        media_type=DICOM_JSON,
        responses=DICOM_JSON_ANSWER,
    )
    def series_metadata(
        self, request: AnyRequest, db: Session, runtime: Runtime, study: str, series: str
    ) -> Response[bytes]:
        """The header of every object of a series in DICOM JSON."""
        return _metadata(request, db, runtime, study, series)

    @get(
        INSTANCE + "/metadata",
        sync_to_thread=True,
        media_type=DICOM_JSON,
        responses=DICOM_JSON_ANSWER,
    )
    def instance_metadata(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
    ) -> Response[bytes]:
        """The header of one object in DICOM JSON."""
        return _metadata(request, db, runtime, study, series, instance)

    # --- WADO-RS: frames, rendered, thumbnails ------------------------------------------------

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
        """The frame of a photo: its JPEG as stored, ``multipart/related; type="image/jpeg"``."""
        checked = _checked(study, series, instance)
        wado.parse_frame_numbers(frames)
        [stored] = wado.locate(db, *checked)
        _require_unsealed(request, db, [stored])
        media_type = wado.frame_media_type(stored)
        require_multipart(
            _accept(request),
            part_type=media_type,
            transfer_syntaxes={stored.transfer_syntax_uid},
            default_part_type="application/octet-stream",
        )
        frame = wado.first_frame(runtime.instances, stored)
        _audit_retrieval(request, db, runtime, [stored], "wado-rs frames")
        part = Part.from_bytes(frame, f"{media_type}; transfer-syntax={stored.transfer_syntax_uid}")
        return multipart_response([part], part_type=media_type)

    @get(INSTANCE + "/rendered", media_type=JPEG)
    async def retrieve_rendered(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        viewport: str | None = None,
        quality: str | None = None,
    ) -> Response[bytes] | Stream:
        """The photo as ``image/jpeg``: as stored, or fitted to ``viewport=w,h`` / ``quality``;
        a video clip as ``video/mp4``, whole or the byte range asked for (``Range``)."""
        options = _render_options(viewport, quality)
        checked = _checked(study, series, instance)
        [stored] = await anyio.to_thread.run_sync(lambda: wado.locate(db, *checked))
        if stored.transfer_syntax_uid in VIDEO_TRANSFER_SYNTAXES:
            return await _rendered_clip(request, db, runtime, stored)
        require_single(_accept(request), JPEG)
        await anyio.to_thread.run_sync(_require_unsealed, request, db, [stored])
        body = await anyio.to_thread.run_sync(
            wado.rendered, runtime.instances, stored, options, limiter=runtime.image_limiter
        )
        await anyio.to_thread.run_sync(
            _audit_retrieval, request, db, runtime, [stored], "wado-rs rendered"
        )
        return Response(body, media_type=JPEG)

    @get(STUDY + "/thumbnail", media_type=JPEG)
    async def study_thumbnail(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        viewport: str | None = None,
    ) -> Response[bytes]:
        """Thumbnail of the study's first photo (``image/jpeg``, at most 320 px)."""
        return await _thumbnail(request, db, runtime, _render_options(viewport, None), study)

    @get(SERIES + "/thumbnail", media_type=JPEG)
    async def series_thumbnail(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        viewport: str | None = None,
    ) -> Response[bytes]:
        """Thumbnail of the series' first photo."""
        options = _render_options(viewport, None)
        return await _thumbnail(request, db, runtime, options, study, series)

    @get(INSTANCE + "/thumbnail", media_type=JPEG)
    async def instance_thumbnail(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        viewport: str | None = None,
    ) -> Response[bytes]:
        """Thumbnail of one photo."""
        return await _thumbnail(
            request, db, runtime, _render_options(viewport, None), study, series, instance
        )
