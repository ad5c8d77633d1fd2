"""Dermoscopic Photography Image objects (PS3.3 A.32.11, modality DMS) around a normalised photo.

A dermatoscope's image is built as a clinical photograph is (the same modules, the same JPEG
Baseline pixels) under its own SOP class, with the modules this IOD adds: Enhanced General
Equipment (the model and serial of what made the image) and the Dermoscopic Image module (the
light's polarisation, skin contact and immersion medium, the optical magnification). What the
person capturing does not know stays empty, as these Type 2 attributes allow: a phone with a
clip-on dermatoscope reports none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydicom.dataset import FileDataset

from pointcare.dicom import values as v
from pointcare.dicom.modules import Equipment, SeriesContext, StudyContext, with_file_meta
from pointcare.dicom.photo import (
    JPEG_BASELINE,
    PhotoDetails,
    photographic_dataset,
    set_jpeg_pixels,
)
from pointcare.domain.patients import PatientIdentity
from pointcare.imaging.photo import NormalisedPhoto

DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.7"
MODALITY = "DMS"
"""Dermoscopy."""


class LightPolarization(StrEnum):
    """Light Source Polarization (0016,1001)."""

    POLARIZED = "POLARIZED"
    NON_POLARIZED = "NON_POLARIZED"


class SkinContact(StrEnum):
    """Contact Method (0016,1003): whether the lens touched the skin."""

    CONTACT = "CONTACT"
    NON_CONTACT = "NON_CONTACT"


class ImmersionMedium(StrEnum):
    """Immersion Media (0016,1004): what was between lens and skin in contact dermoscopy."""

    ALCOHOL = "ALCOHOL"
    ULTRASOUND_GEL = "ULTRASOUND_GEL"
    MINERAL_OIL = "MINERAL_OIL"
    WATER = "WATER"


@dataclass(frozen=True, slots=True, kw_only=True)
class DermoscopyAcquisition:
    """How the dermoscopic image was taken, as far as it is known (None: not known)."""

    polarization: LightPolarization | None = None
    contact: SkinContact | None = None
    immersion: ImmersionMedium | None = None
    magnification: float | None = None
    """Optical magnification of the dermatoscope (10 for the usual 10x)."""

    def __post_init__(self) -> None:
        if self.immersion is not None and self.contact is not SkinContact.CONTACT:
            raise ValueError("ImmersionMedia is only recorded for contact dermoscopy")
        if self.magnification is not None and not 0 < self.magnification <= 1000:
            raise ValueError(
                f"OpticalMagnificationFactor must be between 0 and 1000, got {self.magnification}"
            )


def build_dermoscopic_photography_image(
    *,
    photo: NormalisedPhoto,
    patient: PatientIdentity,
    study: StudyContext,
    series: SeriesContext,
    details: PhotoDetails,
    equipment: Equipment,
    acquisition: DermoscopyAcquisition,
    frame_of_reference_uid: str,
) -> FileDataset:
    """A Dermoscopic Photography Image Storage object, ready for ``to_part10``.

    ``equipment`` must name a model and a serial number: Enhanced General Equipment makes both
    Type 1. The view is the SOP class itself, so no View Code Sequence is written.
    ``frame_of_reference_uid`` is the image's own spatial frame: the optional Frame of
    Reference module, written because dicom3tools checks it as if it were mandatory."""
    if not equipment.model_name.strip():
        raise ValueError("ManufacturerModelName is required (Enhanced General Equipment, Type 1)")
    if not equipment.device_serial.strip():
        raise ValueError("DeviceSerialNumber is required (Enhanced General Equipment, Type 1)")
    ds = photographic_dataset(
        sop_class_uid=DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
        modality=MODALITY,
        patient=patient,
        study=study,
        series=series,
        details=details,
        equipment=equipment,
        with_view=False,
    )
    set_jpeg_pixels(ds, photo)

    # Frame of Reference Module (C.7.4.1): no anatomical reference point to name.
    ds.FrameOfReferenceUID = v.uid(frame_of_reference_uid, "FrameOfReferenceUID")
    ds.PositionReferenceIndicator = ""

    # Dermoscopic Image Module (C.8.12.x); Recognizable Visual Features is set with the image.
    ds.LightSourcePolarization = acquisition.polarization.value if acquisition.polarization else ""
    ds.EmitterColorTemperature = ""
    ds.ContactMethod = acquisition.contact.value if acquisition.contact else ""
    if acquisition.contact is SkinContact.CONTACT:
        ds.ImmersionMedia = acquisition.immersion.value if acquisition.immersion else ""
    ds.OpticalMagnificationFactor = (
        f"{acquisition.magnification:g}" if acquisition.magnification is not None else ""
    )
    return with_file_meta(ds, JPEG_BASELINE)
