"""Documents from the desk: a PDF becomes an Encapsulated PDF object in the patient's record.

Filed like photos (the session's study, a "Documents" series beside its photos) by the same
pipeline. Only a real PDF is accepted (``dicom.pdf.check_pdf``); a document carries no consent
record: it is not a photograph of the patient.
"""

from __future__ import annotations

from functools import partial

from pydicom.dataset import FileDataset

from pointcare import __version__
from pointcare.auth.principal import Principal
from pointcare.capture import filing
from pointcare.capture.command import CaptureCommand
from pointcare.capture.pipeline import NewObject, Placement
from pointcare.dicom.modules import Equipment
from pointcare.dicom.pdf import (
    ENCAPSULATED_PDF_STORAGE,
    DocumentDetails,
    NotAPdf,
    build_encapsulated_pdf,
    check_pdf,
)
from pointcare.domain.clock import TakenAt
from pointcare.domain.objects import ObjectKind
from pointcare.errors import InvalidInput

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
MAX_TITLE = 64


def prepare(
    who: Principal,
    command: CaptureCommand,
    pdf: bytes,
    patient_id: int,
    content_sha256: str,
    institution_name: str,
) -> NewObject:
    try:
        check_pdf(pdf)
    except NotAPdf as exc:
        raise InvalidInput(str(exc), errors={"file": str(exc)}) from None
    taken = command.taken
    if taken is None:
        raise ValueError("the service decides when a document was made before it is prepared")
    return NewObject(
        kind=ObjectKind.DOCUMENT,
        sop_class_uid=ENCAPSULATED_PDF_STORAGE,
        transfer_syntax_uid=EXPLICIT_VR_LITTLE_ENDIAN,
        patient_id=patient_id,
        operator_id=who.user_id,
        taken=taken,
        place=filing.in_session(
            filing.Filing(
                session_id=command.session_id,
                captured_at=taken.moment,
                operator_id=who.user_id,
                purpose=filing.SeriesPurpose.DOCUMENTS,
            )
        ),
        build=partial(
            _build,
            pdf,
            command.title,
            taken,
            Equipment(software_versions=__version__, institution_name=institution_name),
        ),
        capture_id=command.capture_id,
        content_sha256=content_sha256,
        description=command.title,
        audit_details={"source": command.source.value, "bytes": len(pdf)},
    )


def _build(
    pdf: bytes, title: str, taken: TakenAt, equipment: Equipment, placement: Placement
) -> FileDataset:
    return build_encapsulated_pdf(
        pdf=pdf,
        patient=placement.patient,
        study=placement.study,
        series=placement.series,
        details=DocumentDetails(
            sop_instance_uid=placement.sop_instance_uid,
            instance_number=placement.instance_number,
            title=title,
            created_at=taken.moment,
        ),
        equipment=equipment,
    )
