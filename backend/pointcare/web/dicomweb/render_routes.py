"""Rendered and thumbnail routes (PS3.18 10.4.1.1.3-4): images for people, not decoders.

Rendered: JPEG (default) or PNG with ``viewport`` and ``quality``; one image for an instance
or a frame, a ``multipart/related`` of one image per photo for a study or a series; a
document's rendering is the document itself, a video clip's is its MP4 (``clips``: whole or in
byte ranges, as a ``<video>`` element asks for it). Sealed sensitive photos are refused (403) at
every level. Thumbnails: the stored 320-pixel JPEG, blurred for a sealed photo, never refused (a
list shows them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
from litestar import Controller, Response, get
from litestar.response import Stream
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.access.blur import blurred_jpeg
from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from pointcare.web.dicomweb import links, wado
from pointcare.web.dicomweb.clips import MP4, clip_answer
from pointcare.web.dicomweb.common import (
    INSTANCE,
    SERIES,
    STUDY,
    AnyRequest,
    accept_of,
    audit_retrieval,
    checked,
    render_options,
    require_unsealed,
)
from pointcare.web.dicomweb.media import (
    JPEG,
    NotAcceptable,
    Representation,
    choose_rendered,
    require_single,
)
from pointcare.web.dicomweb.multipart import Part, parts_response
from pointcare.web.dicomweb.rendering import RenderOptions, render_jpeg
from pointcare.web.security import REVIEW

FRAMES = INSTANCE + "/frames/{frames:str}"


def _rendered_parts(
    runtime: Runtime,
    images: list[wado.StoredObject],
    frames: list[int],
    options: RenderOptions,
    representation: Representation,
) -> list[Part]:
    """One rendering per (image, frame), each made when its turn comes."""

    def render(stored: wado.StoredObject, frame: int) -> list[bytes]:
        media_type = representation.media_type
        return [wado.rendered(runtime.instances, stored, frame, options, media_type)]

    return [
        Part.made_later(partial(render, stored, frame), representation.media_type)
        for stored in images
        for frame in frames
    ]


@dataclass(frozen=True)
class _OneImage:
    """One image to render, the usual viewer request: made before answering, so that an
    archive that cannot give it is an error answer, not a cut stream; audited once made."""

    render: Callable[[], bytes]
    audit: Callable[[], None]
    media_type: str


async def _answer(
    runtime: Runtime, prepare: Callable[[], Stream | Response[Any] | _OneImage]
) -> Stream | Response[Any]:
    """Look the objects up in a worker thread, then render one image inside the limit on
    concurrent transcodes, like every part of a multipart answer."""
    prepared = await anyio.to_thread.run_sync(prepare)
    if not isinstance(prepared, _OneImage):
        return prepared
    body = await anyio.to_thread.run_sync(prepared.render, limiter=runtime.transcode_limiter)
    await anyio.to_thread.run_sync(prepared.audit)
    return Response(body, media_type=prepared.media_type)


def _rendered(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    uids: tuple[str, ...],
    options: RenderOptions,
    frames: list[int] | None = None,
) -> Stream | Response[Any] | _OneImage:
    objects = wado.locate(db, *checked(*uids))
    single = len(uids) == 3 and (frames is None or len(frames) == 1)
    if len(uids) == 3 and not objects[0].has_pixels:
        if frames is not None:
            raise NotFound("This object has no pixel data, so no frames.")
        return _rendered_document(request, db, runtime, objects[0])
    if len(uids) == 3 and wado.is_video(objects[0]):
        if frames is not None:
            raise NotAcceptable(
                detail=f"A video clip is rendered whole, as {MP4}: ask for the instance's "
                "rendered resource."
            )
        return _rendered_clip(request, db, runtime, objects[0])
    # A study's or series' rendering is its photos: clips and documents are rendered one by one.
    images = [stored for stored in objects if stored.has_pixels and not wado.is_video(stored)]
    if not images:
        raise NotFound(
            "There are no photos to render here: render documents and video clips one by one."
        )
    require_unsealed(request, db, images)
    if frames is not None:
        wado.require_frames(runtime.instances, images[0], frames)
    representation = choose_rendered(accept_of(request), single=single)
    if not representation.multipart:
        [stored], [frame] = images, frames or [1]
        media_type = representation.media_type
        return _OneImage(
            render=partial(wado.rendered, runtime.instances, stored, frame, options, media_type),
            audit=partial(audit_retrieval, request, db, runtime, images, "wado-rs rendered"),
            media_type=media_type,
        )
    parts = _rendered_parts(runtime, images, frames or [1], options, representation)
    audit_retrieval(request, db, runtime, images, "wado-rs rendered")
    return parts_response(
        parts,
        multipart=True,
        part_type=representation.media_type,
        limiter=runtime.transcode_limiter,
    )


def _rendered_document(
    request: AnyRequest, db: Session, runtime: Runtime, stored: wado.StoredObject
) -> Response[bytes]:
    """A document rendered is the document (a PDF as ``application/pdf``)."""
    require_unsealed(request, db, [stored])
    data, mime_type = wado.document(runtime.instances, stored)
    require_single(accept_of(request), mime_type)
    audit_retrieval(request, db, runtime, [stored], "wado-rs rendered")
    return Response(data, media_type=mime_type)


def _rendered_clip(
    request: AnyRequest, db: Session, runtime: Runtime, stored: wado.StoredObject
) -> Stream:
    """A clip for a ``<video>`` element. A player asks for many ranges of one clip: only the
    whole clip or the first range (from byte 0) is audited as a viewing."""
    require_single(accept_of(request), MP4)
    require_unsealed(request, db, [stored])
    source = runtime.instances.part10(stored.ref, stored.storage_path)
    wanted = request.headers.get("range")
    answer = clip_answer(source, wanted)
    if answer.status_code == 200 or (wanted or "").replace(" ", "").startswith("bytes=0-"):
        audit_retrieval(request, db, runtime, [stored], "wado-rs rendered")
    return answer


async def _thumbnail(
    request: AnyRequest,
    db: Session,
    runtime: Runtime,
    options: RenderOptions,
    *uids: str,
) -> Response[bytes]:
    require_single(accept_of(request), JPEG)
    found = checked(*uids)

    def stored_thumbnail() -> tuple[bytes, bool]:
        """The stored thumbnail, and whether it is sealed for this user: one trip to a worker
        thread for the index and the small file (a thumbnail is fetched by the hundred). A
        thumbnail no list showed this user lately is audited as a view of its own."""
        [first] = wado.locate(db, *found, first_only=True, images_only=True)
        if first.thumbnail_path is None:  # pragma: no cover - images have thumbnails
            raise NotFound("This object has no thumbnail.")
        sealed = first.sensitive and not glass.has_grant(db, request.user.user_id, first.patient_id)
        shown = {first.sop_uid, *(uid for uid in found if uid)}
        if not audit.shown_in_a_list(db, request.user.user_id, first.patient_id, shown):
            audit_retrieval(request, db, runtime, [first], "wado-rs thumbnail")
        return runtime.files.read(first.thumbnail_path), sealed

    body, sealed = await anyio.to_thread.run_sync(stored_thumbnail)
    if sealed or not options.as_stored:
        # Lists show sensitive photos blurred, unless the glass was broken.
        body = await anyio.to_thread.run_sync(
            _fitted_thumbnail, body, options, sealed, limiter=runtime.image_limiter
        )
    return Response(body, media_type=JPEG)


def _fitted_thumbnail(thumbnail: bytes, options: RenderOptions, sealed: bool) -> bytes:
    body = render_jpeg(thumbnail, options)
    return blurred_jpeg(body) if sealed else body


class RenderController(Controller):
    path = links.PREFIX
    guards = [REVIEW]  # noqa: RUF012 - Litestar reads these class attributes
    tags = ["dicomweb"]  # noqa: RUF012

    # --- Rendered -----------------------------------------------------------------------------

    @get(STUDY + "/rendered")
    async def study_rendered(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        viewport: str | None = None,
        quality: str | None = None,
    ) -> Stream | Response[Any]:
        """Every photo of a study rendered, ``multipart/related; type="image/jpeg"`` (or png)."""
        options = render_options(viewport, quality)
        return await _answer(runtime, partial(_rendered, request, db, runtime, (study,), options))

    @get(SERIES + "/rendered")
    async def series_rendered(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        viewport: str | None = None,
        quality: str | None = None,
    ) -> Stream | Response[Any]:
        """Every photo of a series rendered, one part each."""
        options = render_options(viewport, quality)
        return await _answer(
            runtime, partial(_rendered, request, db, runtime, (study, series), options)
        )

    @get(INSTANCE + "/rendered")
    async def instance_rendered(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        viewport: str | None = None,
        quality: str | None = None,
    ) -> Stream | Response[Any]:
        """The photo as ``image/jpeg`` (as stored, or fitted to ``viewport=w,h`` / ``quality``)
        or ``image/png``; a document as itself."""
        options = render_options(viewport, quality)
        return await _answer(
            runtime, partial(_rendered, request, db, runtime, (study, series, instance), options)
        )

    @get(FRAMES + "/rendered")
    async def frames_rendered(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        series: str,
        instance: str,
        frames: str,
        viewport: str | None = None,
        quality: str | None = None,
    ) -> Stream | Response[Any]:
        """Frames rendered: one image for one frame, one part per frame for several."""
        options = render_options(viewport, quality)
        numbers = wado.parse_frame_numbers(frames)
        return await _answer(
            runtime,
            partial(_rendered, request, db, runtime, (study, series, instance), options, numbers),
        )

    # --- Thumbnails ---------------------------------------------------------------------------

    @get(STUDY + "/thumbnail")
    async def study_thumbnail(
        self,
        request: AnyRequest,
        db: Session,
        runtime: Runtime,
        study: str,
        viewport: str | None = None,
    ) -> Response[bytes]:
        """Thumbnail of the study's first photo (``image/jpeg``, at most 320 px)."""
        return await _thumbnail(request, db, runtime, render_options(viewport, None), study)

    @get(SERIES + "/thumbnail")
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
        options = render_options(viewport, None)
        return await _thumbnail(request, db, runtime, options, study, series)

    @get(INSTANCE + "/thumbnail")
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
            request, db, runtime, render_options(viewport, None), study, series, instance
        )
