"""Export: choose photos of a patient, then download a PDF report, a DICOM ZIP or a teaching set.

The choice is a plain form (it works without JavaScript); each button posts the same selection
to its own route. The file is built off the event loop from the verified stored objects and
streamed from a temporary file, so memory stays bounded whatever the selection's size.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Stream
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.access import glass
from pointcare.auth.principal import Principal
from pointcare.errors import InvalidInput
from pointcare.export.dicomdir import write_dicom_zip
from pointcare.export.items import (
    ExportItem,
    exported_uids,
    objects_with_reports,
    select_items,
    with_objects,
)
from pointcare.export.report import FindingSection, ReportContext, build_report
from pointcare.export.teaching import teaching_items, write_teaching_zip
from pointcare.findings.report import finding_section
from pointcare.runtime import Runtime
from pointcare.web.pages.common import PatientContext, load_patient, page, record_opened
from pointcare.web.pages.gallery import photo_days
from pointcare.web.security import REVIEW

CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""A file up to this size is built in memory; a larger one goes to a temporary file."""


@get("/patients/{mrn:str}/export", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def export_page(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
    photo: FromQuery[list[str] | None] = None,
    all_photos: FromQuery[bool] = False,
) -> Response[Any]:
    """The patient's photos with a tick box each: the ``photo`` UIDs ticked, or every one with
    ``all_photos``."""
    context = load_patient(db, mrn, issuer)
    days = photo_days(db, context.patient).days
    chosen = (
        {card.sop_instance_uid for day in days for card in day.photos}
        if all_photos
        else set(photo or ())
    )
    listed = [card.sop_instance_uid for day in days for card in day.photos]
    record_opened(request, runtime, context, page="export", listed=listed)
    return page(
        "pages/export.html",
        **context.as_context(),
        days=days,
        chosen=chosen,
        export_path=_export_path(context),
    )


def _export_path(context: PatientContext) -> str:
    """``/patients/{mrn}/export``: the page, and with a suffix each export's route."""
    return f"/patients/{quote(context.patient.mrn, safe='')}/export"


async def _selection(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    principal: Principal,
    mrn: str,
    issuer: str | None,
    *,
    sensitive_leave: bool = True,
) -> tuple[PatientContext, list[ExportItem]]:
    """The patient and the chosen photos. When sensitive photos would leave in the export
    (``sensitive_leave``), they must be unsealed for this user (break the glass first)."""
    form = await request.form()
    uids = [str(value) for value in form.getall("photos")] if "photos" in form else []
    if not uids:
        raise InvalidInput(
            "Choose at least one photo to export.", errors={"photos": "Tick the photos to export."}
        )

    def load() -> tuple[PatientContext, list[ExportItem]]:
        with runtime.db.session() as session:
            context = load_patient(session, mrn, issuer)
            items = select_items(session, context.patient, uids)
            if sensitive_leave:
                glass.require_unsealed(
                    session, principal.user_id, [item.instance.sop_instance_uid for item in items]
                )
            session.expunge_all()
            return context, items

    return await anyio.to_thread.run_sync(load)


def _attachment(
    spool: IO[bytes], filename: str, media_type: str, headers: dict[str, str] | None = None
) -> Stream:
    spool.seek(0)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(spool.read, CHUNK):
                yield chunk
        finally:
            spool.close()

    return Stream(
        chunks(),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


async def _build(write: Callable[[IO[bytes]], None]) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - streamed, closed after
    try:
        await anyio.to_thread.run_sync(write, spool, limiter=None)
    except BaseException:
        spool.close()
        raise
    return spool


async def _audit(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    principal: Principal,
    context: PatientContext,
    uids: list[str],
    kind: str,
) -> None:
    """Record the export: who, which patient, which objects, which kind."""
    event = audit.exported(
        audit.actor_of(request, principal),
        uids,
        purpose=kind,
        patient=audit.PatientRef.of(context.patient),
    )
    await anyio.to_thread.run_sync(audit.record_now, runtime.db, event)


@dataclass(frozen=True, slots=True)
class Export:
    """One export of a selection: what it is, how it is written, how it is named."""

    kind: str
    write: Callable[[IO[bytes]], None]
    filename: str
    media_type: str
    headers: dict[str, str] | None = None
    with_reports: bool = False
    """The photos' measurement reports leave with them (the DICOM export)."""


async def _deliver(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    principal: Principal,
    context: PatientContext,
    items: list[ExportItem],
    export: Export,
) -> Stream:
    """Build the file off the event loop, record the export, then stream the file."""
    spool = await _build(export.write)
    uids = exported_uids(items, with_reports=export.with_reports)
    await _audit(request, runtime, principal, context, uids, export.kind)
    return _attachment(spool, _safe(export.filename), export.media_type, export.headers)


def _finding(runtime: Runtime, context: PatientContext, raw: str) -> FindingSection | None:
    if not raw.strip():
        return None
    if not raw.strip().isdigit():
        raise InvalidInput("No such finding.", errors={"finding": "not a finding's number"})
    with runtime.db.session() as session:
        return finding_section(session, context.patient, int(raw))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d-%H%M")


@post(
    "/patients/{mrn:str}/export/report", guards=[REVIEW], status_code=200, include_in_schema=False
)
async def export_report(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Stream:
    """A PDF report of the selected photos, for insurers and courts."""
    context, items = await _selection(request, runtime, principal, mrn, issuer)
    now = datetime.now(UTC)
    # A report made from a finding's page also holds its trend and measurements.
    finding = str((await request.form()).get("finding") or "")
    report = ReportContext(
        patient=context.identity,
        institution=runtime.settings.institution_name,
        generated_by=f"{principal.display_name} ({principal.username})",
        generated_at=now,
        finding=await anyio.to_thread.run_sync(_finding, runtime, context, finding),
    )

    def poster(item: ExportItem) -> bytes:
        """A clip's poster frame: its thumbnail, which every image has."""
        return runtime.files.read(item.instance.thumbnail_path or "")

    def write(spool: IO[bytes]) -> None:
        spool.write(build_report(report, with_objects(runtime.instances, items), poster=poster))

    filename = f"photo-report-{context.patient.mrn}-{_stamp(now)}.pdf"
    export = Export("report", write, filename, "application/pdf")
    return await _deliver(request, runtime, principal, context, items, export)


@post("/patients/{mrn:str}/export/dicom", guards=[REVIEW], status_code=200, include_in_schema=False)
async def export_dicom(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Stream:
    """The selected objects as stored, with their measurement reports, in a ZIP with a
    DICOMDIR."""
    context, items = await _selection(request, runtime, principal, mrn, issuer)

    def write(spool: IO[bytes]) -> None:
        write_dicom_zip(objects_with_reports(runtime.instances, items), spool)

    filename = f"dicom-{context.patient.mrn}-{_stamp(datetime.now(UTC))}.zip"
    export = Export("dicom", write, filename, "application/zip", with_reports=True)
    return await _deliver(request, runtime, principal, context, items, export)


@post(
    "/patients/{mrn:str}/export/teaching", guards=[REVIEW], status_code=200, include_in_schema=False
)
async def export_teaching(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Stream:
    """The selected photos that may be used for teaching, de-identified (JPEGs and a CSV)."""
    # Sensitive photos never go into a teaching set: choosing them needs no broken glass.
    context, items = await _selection(
        request, runtime, principal, mrn, issuer, sensitive_leave=False
    )
    kept, left_out = teaching_items(items)
    if not kept:
        reasons = "; ".join(f"{count} {reason}" for reason, count in sorted(left_out.items()))
        raise InvalidInput(
            f"None of the selected photos may be used for teaching ({reasons}).",
            errors={"photos": "Choose photos with consent for teaching."},
        )

    def write(spool: IO[bytes]) -> None:
        write_teaching_zip(
            context.identity,
            with_objects(runtime.instances, kept),
            spool,
            left_out=left_out,
            uid_root=runtime.settings.uid_root,
        )

    # The file name names no patient: a teaching set leaves the record.
    filename = f"teaching-set-{_stamp(datetime.now(UTC))}.zip"
    left = {"X-Pointcare-Left-Out": str(sum(left_out.values()))}
    export = Export("teaching", write, filename, "application/zip", left)
    return await _deliver(request, runtime, principal, context, kept, export)


def _safe(filename: str) -> str:
    """A file name for Content-Disposition: letters, digits, dot, dash and underscore only."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename)
