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
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, joinedload

from pointcare import audit
from pointcare.archive.reader import ref_of
from pointcare.auth.principal import Principal
from pointcare.corrections.visibility import not_rejected
from pointcare.db.models import Instance, Patient
from pointcare.dicom.part10 import readable
from pointcare.dicom.pdf import encapsulated_pdf
from pointcare.domain.objects import ObjectKind
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
        select(Instance)
        .where(_documents_of(patient), not_rejected())
        .options(joinedload(Instance.operator))
        .order_by(Instance.created_at.desc(), Instance.id.desc())
    )
    return [
        DocumentCard(
            title=row.description,
            added=row.created_at,
            added_by=row.operator.display_name,
            pages_kb=max(1, round(row.size_bytes / 1024)),
            href=urls.document(row.sop_instance_uid),
        )
        for row in rows
    ]


def _documents_of(patient: Patient) -> ColumnElement[bool]:
    return and_(Instance.patient_id == patient.id, Instance.kind == ObjectKind.DOCUMENT.value)


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
                select(Instance)
                .where(_documents_of(patient), Instance.sop_instance_uid == sop, not_rejected())
                .options(joinedload(Instance.study), joinedload(Instance.series))
            )
            if document is None:
                raise NotFound("This document is not in this patient's record.")
            source = runtime.instances.part10(ref_of(document), document.storage_path)
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
            return pdf, document.description

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
