"""VL Photographic Image objects (PS3.3 A.32.4) around a normalised photo.

The builder is a typed constructor in the highdicom manner: keyword-only inputs, checked at the
boundary with ``ValueError``s that name the attribute, and attributes grouped under the DICOM
module they belong to. The JPEG is encapsulated exactly as given (JPEG Baseline transfer syntax).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from pointcare.dicom import values as v
from pointcare.dicom.modules import (
    Equipment,
    SeriesContext,
    StudyContext,
    local_scheme_identification,
    positive,
    set_equipment,
    set_general_study,
    set_patient_module,
    set_series,
    set_sop_common,
    with_file_meta,
)
from pointcare.domain.body_sites import Aspect, BodySite, Laterality
from pointcare.domain.codes import LOCAL_SCHEME
from pointcare.domain.consent import Consent
from pointcare.domain.patients import PatientIdentity
from pointcare.domain.views import View
from pointcare.imaging import jpeg_markers
from pointcare.imaging.photo import NormalisedPhoto

VL_PHOTOGRAPHIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.4"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
MODALITY = "XC"
"""External-camera Photography."""
LOSSY_METHOD = "ISO_10918_1"
"""Lossy Image Compression Method for JPEG (CID 7201 defined term)."""
_VL_PHOTOMETRICS = {"YBR_FULL_422": 3, "MONOCHROME2": 1}
"""Photometric Interpretation values the VL Image module allows for JPEG Baseline, with
Samples per Pixel; YBR_FULL is not among the VL Image module's enumerated values."""
_YES_NO = {True: "YES", False: "NO"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PhotoDetails:
    sop_instance_uid: str
    instance_number: int
    body_site: BodySite
    laterality: Laterality
    view: View | None
    aspect: Aspect | None = None
    """Which face of the site: the Anatomic Region Modifier Sequence; None: not stated."""
    description: str
    """Free text shown with the image (Image Comments)."""
    operator_name: str
    """DICOM PN such as ``NURSE^Nora``, or a display name."""
    captured_at: datetime
    """Timezone-aware; gives Acquisition/Content Date and Time and Timezone Offset From UTC."""
    consent: Consent
    recognizable: bool
    """Recognizable Visual Features: a face or an identifying mark is in the picture."""
    sensitive: bool
    """Restricted viewing (intimate images). No attribute of this IOD carries it: the app's
    database enforces it, and the object itself is not marked."""


def build_vl_photographic_image(
    *,
    photo: NormalisedPhoto,
    patient: PatientIdentity,
    study: StudyContext,
    series: SeriesContext,
    details: PhotoDetails,
    equipment: Equipment,
) -> FileDataset:
    """A VL Photographic Image Storage object, ready for :func:`to_part10`."""
    ds = photographic_dataset(
        sop_class_uid=VL_PHOTOGRAPHIC_IMAGE_STORAGE,
        modality=MODALITY,
        patient=patient,
        study=study,
        series=series,
        details=details,
        equipment=equipment,
    )
    set_jpeg_pixels(ds, photo)
    return with_file_meta(ds, JPEG_BASELINE)


def photographic_dataset(
    *,
    sop_class_uid: str,
    modality: str,
    patient: PatientIdentity,
    study: StudyContext,
    series: SeriesContext,
    details: PhotoDetails,
    equipment: Equipment,
    with_view: bool = True,
) -> Dataset:
    """The modules a clinical photograph, a dermoscopic image and a video clip share, all but
    their pixels: SOP Common, Patient, the study's, General Series, General Equipment, General
    Acquisition, General Image, Acquisition Context and the VL Image module's coded anatomy.
    ``with_view`` adds the View Code Sequence (a Standard Extended attribute)."""
    captured_at = v.aware(details.captured_at, "captured_at")
    laterality = details.body_site.laterality_for(details.laterality)
    aspect = details.body_site.aspect_for(details.aspect)
    view = details.view if with_view else None

    ds = Dataset()
    set_sop_common(
        ds,
        sop_class_uid=sop_class_uid,
        sop_instance_uid=details.sop_instance_uid,
        at=captured_at,
    )
    if view is not None and view.code.scheme == LOCAL_SCHEME:
        ds.CodingSchemeIdentificationSequence = local_scheme_identification()
    set_patient_module(ds, patient)
    set_general_study(ds, study, at=captured_at)

    # Clinical Trial Study Module (C.7.2.3): the reuse consents (teaching, publication).
    # dicom3tools 2022 reports "Only permitted when DistributionType is NAMED_PROTOCOL" for
    # every item here although no Clinical Trial Protocol ID is present: a validator bug
    # (see tests/support/dicom_checks.py), not something to work around by mislabelling.
    ds.ClinicalTrialTimePointID = ""
    ds.ConsentForClinicalTrialUseSequence = _consent_items(details.consent)

    # General Series Module (C.7.3.1)
    set_series(ds, series, modality=modality)
    ds.OperatorsName = v.person_name(details.operator_name, "OperatorsName")

    set_equipment(ds, equipment)

    # General Acquisition Module (C.7.10.1)
    ds.AcquisitionDate = v.da(captured_at)
    ds.AcquisitionTime = v.tm(captured_at)
    ds.AcquisitionDateTime = v.dt(captured_at)

    # General Image Module (C.7.6.1)
    ds.InstanceNumber = positive(details.instance_number, "InstanceNumber")
    ds.PatientOrientation = ""
    ds.ContentDate = v.da(captured_at)
    ds.ContentTime = v.tm(captured_at)
    ds.ImageLaterality = laterality.value
    if details.description:
        ds.ImageComments = v.text(details.description, "ImageComments", "LT")
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = _YES_NO[details.recognizable]

    # Acquisition Context Module (C.7.6.14): nothing structured to record.
    ds.AcquisitionContextSequence = Sequence()

    # VL Image Module (C.8.12.1)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    # "01" for kept JPEGs and clips too: the phone already compressed them lossily.
    ds.LossyImageCompression = "01"
    region = v.code_item(details.body_site.code)
    if aspect is not None:
        region.AnatomicRegionModifierSequence = Sequence([v.code_item(aspect.code)])
    ds.AnatomicRegionSequence = Sequence([region])
    if view is not None:
        # Not among this IOD's modules: a Standard Extended SOP Class (PS3.4 Annex B), which
        # receivers keep; dciodvfy warns about it.
        ds.ViewCodeSequence = Sequence([v.code_item(view.code)])
    return ds


def set_jpeg_pixels(ds: Dataset, photo: NormalisedPhoto) -> None:
    """Image Pixel Module (C.7.6.3) and the lossy compression of one JPEG Baseline frame."""
    samples = _check_photo(photo)
    ds.LossyImageCompressionRatio = f"{photo.rows * photo.columns * samples / len(photo.jpeg):.2f}"
    ds.LossyImageCompressionMethod = LOSSY_METHOD
    set_encapsulated_pixels(
        ds,
        photometric=photo.photometric,
        samples=samples,
        size=(photo.rows, photo.columns),
        encoded=photo.jpeg,
    )


def set_encapsulated_pixels(
    ds: Dataset, *, photometric: str, samples: int, size: tuple[int, int], encoded: bytes
) -> None:
    """Image Pixel Module (C.7.6.3) of 8-bit pixels encoded as one fragment: a photo's JPEG,
    or a clip's whole MP4. An empty Basic Offset Table: one fragment needs no offsets."""
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = size
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate_single_frame(encoded)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True


def _check_photo(photo: NormalisedPhoto) -> int:
    """Samples per Pixel for ``photo``, after checking it fits JPEG Baseline and the VL IOD."""
    samples = _VL_PHOTOMETRICS.get(photo.photometric)
    if samples is None:
        allowed = ", ".join(_VL_PHOTOMETRICS)
        raise ValueError(
            f"PhotometricInterpretation {photo.photometric!r} is not allowed in a VL image "
            f"with JPEG Baseline; expected one of {allowed}"
        )
    try:
        frame = jpeg_markers.read_frame_header(photo.jpeg)
    except jpeg_markers.JpegStructureError as exc:
        raise ValueError(f"PixelData is not a JPEG: {exc}") from None
    if not frame.is_baseline:
        raise ValueError("PixelData is not baseline 8-bit JPEG (SOF0), as JPEG Baseline requires")
    # Validators do not compare these with the JPEG, and a swap shows the photo distorted.
    if (frame.height, frame.width) != (photo.rows, photo.columns):
        raise ValueError(
            f"Rows/Columns {photo.rows}x{photo.columns} differ from the JPEG frame "
            f"{frame.height}x{frame.width}"
        )
    if len(frame.components) != samples:
        raise ValueError(
            f"SamplesPerPixel {samples} for {photo.photometric} differs from the JPEG's "
            f"{len(frame.components)} components"
        )
    return samples


_ITEM_TAG = b"\xfe\xff\x00\xe0"
"""(FFFE,E000) Item, little endian: each item of encapsulated Pixel Data starts with it."""


def encapsulate_single_frame(jpeg: bytes) -> bytes:
    """Encapsulated Pixel Data (PS3.5 A.4) of one frame in one fragment, empty offset table.

    Byte for byte what ``pydicom.encaps.encapsulate([jpeg], has_bot=False)`` produces, in one
    join: pydicom's general version (frames split into fragments) copies a 1.5 MB photo
    through Python slices and costs several milliseconds per photo at ingest.
    """
    padding = b"\x00" if len(jpeg) % 2 else b""  # items have even lengths
    return b"".join(
        (
            _ITEM_TAG,
            b"\x00\x00\x00\x00",  # the Basic Offset Table item, empty
            _ITEM_TAG,
            struct.pack("<I", len(jpeg) + len(padding)),
            jpeg,
            padding,
        )
    )


def _consent_items(consent: Consent) -> Sequence:
    """One YES item per reuse the patient agreed to, or a single NO item when none.

    Distribution Type (0012,0084) is Type 1C, present only when the flag is YES or WITHDRAWN,
    so a refused scope is expressed by its absence rather than by a typed NO item.
    """
    items = []
    for distribution_type, consented in consent.dicom_items():
        if consented:
            item = Dataset()
            item.DistributionType = distribution_type.value
            item.ConsentForDistributionFlag = "YES"
            items.append(item)
    if not items:
        refused = Dataset()
        refused.ConsentForDistributionFlag = "NO"
        items.append(refused)
    return Sequence(items)
