"""A patient's documents (PDFs stored as Encapsulated PDF): listed on the review page, opened
here as the PDF itself, from the stored DICOM object (or the PACS's copy once delivered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from pydicom import dcmread
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.archive.protocol import InstanceRef
from pointcare.auth.principal import Principal
from pointcare.db.models import Document, Patient
from pointcare.dicom.part10 import readable
from pointcare.dicom.pdf import encapsulated_pdf
from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from pointcare.web.pages.common import PatientUrls, load_patient
from pointcare.web.security import REVIEW


@dataclass(frozen=True, slots=True)
class DocumentCard:
    title: str
    added: datetime
    added_by: str
    pages_kb: int
    href: str


def patient_documents(session: Session, patient: Patient) -> list[DocumentCard]:
    """The patient's documents, newest first, as the review page lists them."""
    urls = PatientUrls.of(patient)
    rows = session.scalars(
        select(Document)
        .where(Document.patient_id == patient.id)
        .options(joinedload(Document.added_by))
        .order_by(Document.created_at.desc(), Document.id.desc())
    )
    return [
        DocumentCard(
            title=row.title,
            added=row.created_at,
            added_by=row.added_by.display_name,
            pages_kb=max(1, round(row.pdf_bytes / 1024)),
            href=urls.document(row.sop_instance_uid),
        )
        for row in rows
    ]


@get(
    "/patients/{mrn:str}/documents/{sop:str}",
    guards=[REVIEW],
    include_in_schema=False,
)
async def document_pdf(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The PDF, shown in the browser (never cached); opening it is audited as a view."""

    def read() -> tuple[bytes, str]:
        with runtime.db.session() as session:
            patient = load_patient(session, mrn, issuer).patient
            document = session.scalar(
                select(Document)
                .where(Document.patient_id == patient.id, Document.sop_instance_uid == sop)
                .options(joinedload(Document.study), joinedload(Document.series))
            )
            if document is None:
                raise NotFound("This document is not in this patient's record.")
            ref = InstanceRef(
                document.study.study_instance_uid,
                document.series.series_instance_uid,
                document.sop_instance_uid,
            )
            source = runtime.instances.part10(ref, document.storage_path)
            pdf = encapsulated_pdf(dcmread(readable(source)))
            audit.record_now(
                runtime.db,
                audit.AuditEvent(
                    action=audit.AuditAction.IMAGE_VIEWED,
                    actor=audit.actor_of(request, principal),
                    patient=audit.PatientRef.of(patient),
                    objects=(sop,),
                    details={"kind": "document"},
                ),
            )
            return pdf, document.title

    pdf, title = await anyio.to_thread.run_sync(read)
    name = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in title).strip("-")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name or "document"}.pdf"',
            "Cache-Control": "no-store",
        },
    )
