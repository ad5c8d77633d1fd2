"""A photo, normalised, as the pipeline stores it: a VL Photographic Image of its session."""

from __future__ import annotations

from functools import partial

from pydicom.dataset import FileDataset

from pointcare import __version__
from pointcare.auth.principal import Principal
from pointcare.capture import filing
from pointcare.capture.command import CaptureCommand, ImageTags
from pointcare.capture.pipeline import NewObject, Placement
from pointcare.dicom.modules import Equipment
from pointcare.dicom.photo import (
    JPEG_BASELINE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    PhotoDetails,
    build_vl_photographic_image,
)
from pointcare.domain.clock import TakenAt
from pointcare.domain.objects import ObjectKind
from pointcare.errors import ConsentRequired
from pointcare.imaging.photo import NormalisedPhoto


def prepare(
    who: Principal,
    command: CaptureCommand,
    photo: NormalisedPhoto,
    patient_id: int,
    content_sha256: str,
    institution_name: str,
) -> NewObject:
    tags = command.tags
    if tags is None:
        raise ValueError("a photo's command carries its tags")
    if command.consent is None and command.consent_record_id is None:
        raise ConsentRequired("Ask the patient's consent before storing a photo.")
    taken = command.taken
    if taken is None:
        raise ValueError("the service decides when a photo was taken before it is prepared")
    return NewObject(
        kind=ObjectKind.PHOTO,
        sop_class_uid=VL_PHOTOGRAPHIC_IMAGE_STORAGE,
        transfer_syntax_uid=JPEG_BASELINE,
        patient_id=patient_id,
        operator_id=who.user_id,
        taken=taken,
        place=filing.in_session(
            filing.Filing(
                session_id=command.session_id, captured_at=taken.moment, operator_id=who.user_id
            )
        ),
        build=partial(
            _build,
            photo,
            tags,
            taken,
            who.dicom_name,
            Equipment(software_versions=__version__, institution_name=institution_name),
        ),
        capture_id=command.capture_id,
        content_sha256=content_sha256,
        description=tags.description,
        thumbnail=photo.thumbnail,
        columns={
            "body_site_code": tags.site.snomed_id,
            "laterality": tags.laterality.value,
            "view": tags.view.value if tags.view else None,
            "sensitive": tags.sensitive,
            "recognizable": tags.recognizable,
            "rows": photo.rows,
            "columns": photo.columns,
            "source_format": photo.source_format,
            "reencoded": photo.reencoded,
            "finding_id": command.finding_id,
        },
        consent=command.consent,
        consent_record_id=command.consent_record_id,
        audit_details={"sensitive": tags.sensitive, "source": command.source.value},
    )


def _build(
    photo: NormalisedPhoto,
    tags: ImageTags,
    taken: TakenAt,
    operator_name: str,
    equipment: Equipment,
    placement: Placement,
) -> FileDataset:
    if placement.consent is None:  # pragma: no cover - the pipeline refuses images without
        raise ConsentRequired("Ask the patient's consent before storing a photo.")
    return build_vl_photographic_image(
        photo=photo,
        patient=placement.patient,
        study=placement.study,
        series=placement.series,
        details=PhotoDetails(
            sop_instance_uid=placement.sop_instance_uid,
            instance_number=placement.instance_number,
            body_site=tags.site,
            laterality=tags.laterality,
            view=tags.view,
            description=tags.description,
            operator_name=operator_name,
            captured_at=taken.moment,
            consent=placement.consent,
            recognizable=tags.recognizable,
            sensitive=tags.sensitive,
        ),
        equipment=equipment,
    )
