"""An image of the patient, as the pipeline stores it: a photo (VL Photographic Image), a
photo through a dermatoscope (Dermoscopic Photography Image: the dermoscopic view), or a video
clip (Video Photographic Image, see ``capture.clips``), each filed in its session.

A :class:`Picture` says what differs between them (class, transfer syntax, thumbnail, size,
builder); everything else (tags, consent, filing, the index's columns) they share here."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from pydicom.dataset import FileDataset

from pointcare import __version__
from pointcare.auth.principal import Principal
from pointcare.capture import filing
from pointcare.capture.command import CaptureCommand, ImageTags
from pointcare.capture.pipeline import NewObject, Placement
from pointcare.dicom.dermoscopy import (
    DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    DermoscopyAcquisition,
    build_dermoscopic_photography_image,
)
from pointcare.dicom.modules import Equipment
from pointcare.dicom.photo import (
    JPEG_BASELINE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    PhotoDetails,
    build_vl_photographic_image,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.clock import TakenAt
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View
from pointcare.errors import ConsentRequired
from pointcare.imaging.photo import NormalisedPhoto

MODEL_NAME = "Pointcare"
"""Manufacturer's Model Name of the equipment that makes the objects (Pointcare itself)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Picture:
    """What one image files: its kind and DICOM class, its thumbnail, the facts the index keeps,
    and its builder (given ``patient``, ``study``, ``series``, ``details`` and ``equipment``)."""

    kind: ObjectKind
    sop_class_uid: str
    transfer_syntax_uid: str
    thumbnail: bytes
    rows: int
    columns: int
    source_format: str
    reencoded: bool
    build: Callable[..., FileDataset]


def photo_picture(photo: NormalisedPhoto, view: View | None) -> Picture:
    """A photo; through a dermatoscope (the dermoscopic view) a Dermoscopic Photography Image."""
    dermoscopic = view is View.DERMOSCOPIC
    return Picture(
        kind=ObjectKind.DERMOSCOPY if dermoscopic else ObjectKind.PHOTO,
        sop_class_uid=(
            DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE if dermoscopic else VL_PHOTOGRAPHIC_IMAGE_STORAGE
        ),
        transfer_syntax_uid=JPEG_BASELINE,
        thumbnail=photo.thumbnail,
        rows=photo.rows,
        columns=photo.columns,
        source_format=photo.source_format,
        reencoded=photo.reencoded,
        build=partial(
            _dermoscopic_image if dermoscopic else build_vl_photographic_image, photo=photo
        ),
    )


def _dermoscopic_image(
    *, photo: NormalisedPhoto, equipment: Equipment, **place: Any
) -> FileDataset:
    """Its IOD names the equipment's model and serial: Pointcare, and this server. A phone with
    a clip-on dermatoscope says nothing of its light or contact: those are left empty."""
    return build_dermoscopic_photography_image(
        photo=photo,
        equipment=replace(equipment, model_name=MODEL_NAME, device_serial=platform.node() or "-"),
        acquisition=DermoscopyAcquisition(),
        frame_of_reference_uid=new_uid(),
        **place,
    )


def prepare(
    who: Principal,
    command: CaptureCommand,
    picture: Picture,
    patient_id: int,
    content_sha256: str,
    institution_name: str,
) -> NewObject:
    tags = command.tags
    if tags is None:
        raise ValueError("an image's command carries its tags")
    if command.consent is None and command.consent_record_id is None:
        raise ConsentRequired("Ask the patient's consent before storing a photo.")
    taken = command.taken
    if taken is None:
        raise ValueError("the service decides when an image was taken before it is prepared")
    return NewObject(
        kind=picture.kind,
        sop_class_uid=picture.sop_class_uid,
        transfer_syntax_uid=picture.transfer_syntax_uid,
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
            picture,
            tags,
            taken,
            who.dicom_name,
            Equipment(software_versions=__version__, institution_name=institution_name),
        ),
        capture_id=command.capture_id,
        content_sha256=content_sha256,
        description=tags.description,
        thumbnail=picture.thumbnail,
        columns={
            "body_site_code": tags.site.snomed_id,
            "laterality": tags.laterality.value,
            "aspect": tags.aspect.value if tags.aspect else None,
            "view": tags.view.value if tags.view else None,
            "sensitive": tags.sensitive,
            "recognizable": tags.recognizable,
            "rows": picture.rows,
            "columns": picture.columns,
            "source_format": picture.source_format,
            "reencoded": picture.reencoded,
            "finding_id": command.finding_id,
        },
        consent=command.consent,
        consent_record_id=command.consent_record_id,
        audit_details={"sensitive": tags.sensitive, "source": command.source.value},
    )


def _build(
    picture: Picture,
    tags: ImageTags,
    taken: TakenAt,
    operator_name: str,
    equipment: Equipment,
    placement: Placement,
) -> FileDataset:
    if placement.consent is None:  # pragma: no cover - the pipeline refuses images without
        raise ConsentRequired("Ask the patient's consent before storing a photo.")
    return picture.build(
        patient=placement.patient,
        study=placement.study,
        series=placement.series,
        details=PhotoDetails(
            sop_instance_uid=placement.sop_instance_uid,
            instance_number=placement.instance_number,
            body_site=tags.site,
            laterality=tags.laterality,
            aspect=tags.aspect,
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
