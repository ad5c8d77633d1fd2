"""Objects that other capture devices and apps send (IHE WIC, Image Manager side): read, checked.

Two forms arrive over STOW-RS. Binary DICOM (``application/dicom``): a Part 10 object, kept byte
for byte once accepted. The WIC "JSON metadata and JPEG bulk data" form
(``application/dicom+json`` with an ``image/jpeg`` part): the JPEG is made what every photo
here is (upright, EXIF and GPS removed, ``imaging.photo``) and encapsulated with the metadata
into a VL Photographic Image, by us.

Each check refuses with ``Refused``: a DICOM status code for the answer and a sentence for the
sender. Names and pixels never go into those sentences' log lines (``intake.service``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    UID,
    DermoscopicPhotographyImageStorage,
    EncapsulatedPDFStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    VLPhotographicImageStorage,
)

from pointcare.dicom import store_status as status
from pointcare.dicom.photo import LOSSY_METHOD, encapsulate_single_frame
from pointcare.dicom.pixels import stored_frame
from pointcare.dicom.uids import is_uid
from pointcare.imaging.photo import PhotoRejected, normalise_photo

PHOTO_CLASSES = frozenset({VLPhotographicImageStorage, DermoscopicPhotographyImageStorage})
DOCUMENT_CLASSES = frozenset({EncapsulatedPDFStorage})
ACCEPTED_CLASSES = PHOTO_CLASSES | DOCUMENT_CLASSES
"""What is taken: photographs (VL Photographic, Dermoscopic) and PDF documents. Videos (Video
Photographic) wait until videos are a kind of object stored here."""

PHOTO_SYNTAXES = frozenset(
    {JPEGBaseline8Bit, JPEGExtended12Bit, ExplicitVRLittleEndian, ImplicitVRLittleEndian}
)
"""Photos in these syntaxes can be rendered, transcoded and viewed here."""
DOCUMENT_SYNTAXES = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})
PDF = "application/pdf"


class Refused(ValueError):
    """One received object is refused: ``code`` for the STOW-RS answer, the message for people."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PatientClaim:
    """Who the object says its patient is (Patient module)."""

    patient_id: str
    issuer: str | None
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str


@dataclass(frozen=True, slots=True)
class ReceivedObject:
    """An accepted object: its Part 10 bytes as they will be stored, and what the index needs."""

    part10: bytes
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str
    patient: PatientClaim
    rows: int | None
    columns: int | None
    converted: bool = False
    """Made here from the WIC JSON metadata and JPEG form (not the sender's own bytes)."""

    @property
    def is_image(self) -> bool:
        return self.sop_class_uid in PHOTO_CLASSES


@dataclass(frozen=True, slots=True)
class Identified:
    """The SOP Class and Instance UIDs of something that arrived, as far as they could be read:
    what a refusal is reported under."""

    sop_class_uid: str = ""
    sop_instance_uid: str = ""


def identify(part10: bytes) -> Identified:
    """The UIDs of a Part 10 object, read as far as it goes (for the answer of a refusal)."""
    try:
        dataset = dcmread(io.BytesIO(part10), stop_before_pixels=True, force=True)
        return Identified(
            str(dataset.get("SOPClassUID", "")), str(dataset.get("SOPInstanceUID", ""))
        )
    except Exception:  # whatever fails, the object is reported unnamed
        return Identified()


def read_part10(part10: bytes, *, max_pixels: int) -> ReceivedObject:
    """A binary DICOM object checked for what is stored here; ``Refused`` says why not."""
    try:
        dataset = dcmread(io.BytesIO(part10))
    except (InvalidDicomError, EOFError, ValueError, KeyError) as exc:
        raise Refused(
            status.CANNOT_UNDERSTAND, f"Not a DICOM Part 10 object (with its file meta): {exc}"
        ) from None
    return _checked(dataset, part10, max_pixels=max_pixels)


def _checked(dataset: Dataset, part10: bytes, *, max_pixels: int) -> ReceivedObject:
    sop_class = str(dataset.get("SOPClassUID", ""))
    if sop_class not in ACCEPTED_CLASSES:
        raise Refused(
            status.SOP_CLASS_NOT_SUPPORTED,
            f"SOP Class {sop_class or '(none)'} is not stored here: send VL Photographic, "
            "Dermoscopic Photography or Encapsulated PDF objects.",
        )
    meta_class = str(dataset.file_meta.get("MediaStorageSOPClassUID", sop_class))
    meta_instance = str(dataset.file_meta.get("MediaStorageSOPInstanceUID", ""))
    uids = {keyword: str(dataset.get(keyword, "")) for keyword in _UIDS}
    for keyword, value in uids.items():
        if not is_uid(value):
            raise _mismatch(f"{keyword} {value[:80]!r} is missing or not a valid UID.")
    if meta_class != sop_class or meta_instance not in ("", uids["SOPInstanceUID"]):
        raise _mismatch("The file meta information names another SOP Class or Instance.")
    syntax = str(dataset.file_meta.get("TransferSyntaxUID", ""))
    allowed = _syntaxes(sop_class)
    if syntax not in allowed:
        raise Refused(
            status.TRANSFER_SYNTAX_NOT_SUPPORTED,
            f"Transfer Syntax {syntax or '(none)'} is not taken for this SOP Class; use one of "
            f"{', '.join(sorted(allowed))}.",
        )
    rows, columns = _content(dataset, sop_class, max_pixels=max_pixels)
    return ReceivedObject(
        part10=part10,
        sop_class_uid=sop_class,
        sop_instance_uid=uids["SOPInstanceUID"],
        study_instance_uid=uids["StudyInstanceUID"],
        series_instance_uid=uids["SeriesInstanceUID"],
        transfer_syntax_uid=syntax,
        patient=_patient(dataset),
        rows=rows,
        columns=columns,
    )


_UIDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")


def _syntaxes(sop_class: str) -> frozenset[str]:
    return PHOTO_SYNTAXES if sop_class in PHOTO_CLASSES else DOCUMENT_SYNTAXES


def _mismatch(reason: str) -> Refused:
    return Refused(status.DOES_NOT_MATCH_SOP_CLASS, reason)


def _content(dataset: Dataset, sop_class: str, *, max_pixels: int) -> tuple[int | None, int | None]:
    """Rows and Columns of an image, checked against its pixels; (None, None) for a document."""
    if sop_class in DOCUMENT_CLASSES:
        document = bytes(dataset.get("EncapsulatedDocument", b""))
        if str(dataset.get("MIMETypeOfEncapsulatedDocument", "")) != PDF:
            raise _mismatch(f"MIME Type of Encapsulated Document must be {PDF}.")
        if not document.startswith(b"%PDF-"):
            raise _mismatch("Encapsulated Document does not hold a PDF.")
        return None, None
    if "PixelData" not in dataset:
        raise _mismatch("An image needs Pixel Data.")
    rows, columns = int(dataset.get("Rows", 0)), int(dataset.get("Columns", 0))
    if rows < 1 or columns < 1:
        raise _mismatch("Rows and Columns must be positive.")
    if rows * columns > max_pixels:
        raise Refused(
            status.OUT_OF_RESOURCES,
            f"The image has {rows * columns} pixels; at most {max_pixels} are taken.",
        )
    if sop_class in PHOTO_CLASSES:
        _check_photo_pixels(dataset, rows, columns)
    return rows, columns


def _check_photo_pixels(dataset: Dataset, rows: int, columns: int) -> None:
    """8-bit samples, and a JPEG frame of the size the object says (a swapped Rows/Columns is
    caught by no validator, and every viewer would draw the photo wrong)."""
    if int(dataset.get("BitsAllocated", 0)) != 8 or int(dataset.get("SamplesPerPixel", 0)) not in (
        1,
        3,
    ):
        raise _mismatch("Photos must have 8-bit samples, 1 or 3 per pixel.")
    if int(dataset.get("NumberOfFrames", 1) or 1) != 1:
        raise _mismatch("A photo has one frame.")
    if str(dataset.file_meta.TransferSyntaxUID) not in {JPEGBaseline8Bit, JPEGExtended12Bit}:
        return
    try:
        with Image.open(io.BytesIO(stored_frame(dataset, 0))) as image:
            size = image.size
    except Exception as exc:  # the readers raise many kinds for bad input
        raise _mismatch(f"Pixel Data does not hold a readable JPEG: {exc}") from None
    if size != (columns, rows):
        raise _mismatch(
            f"The JPEG is {size[0]} x {size[1]} pixels, the object says {columns} x {rows} "
            "(Columns x Rows)."
        )


def _patient(dataset: Dataset) -> PatientClaim:
    patient_id = str(dataset.get("PatientID", "")).strip()
    if not patient_id:
        raise _mismatch("Patient ID is missing: the patient cannot be matched.")
    name = str(dataset.get("PatientName", "") or "")
    family, _, rest = name.partition("=")[0].partition("^")
    given = rest.split("^")[0]
    issuer = str(dataset.get("IssuerOfPatientID", "") or "").strip() or None
    raw_birth = str(dataset.get("PatientBirthDate", "") or "")
    try:
        birth_date = date(int(raw_birth[:4]), int(raw_birth[4:6]), int(raw_birth[6:8]))
    except ValueError:
        birth_date = None
    return PatientClaim(
        patient_id=patient_id,
        issuer=issuer,
        family_name=family.strip(),
        given_name=given.strip(),
        birth_date=birth_date if len(raw_birth) == 8 else None,
        sex=str(dataset.get("PatientSex", "") or "").strip().upper(),
    )


# --- The WIC form: JSON metadata and JPEG bulk data ----------------------------------------------


def from_metadata_and_jpeg(
    metadata: Mapping[str, Any], bulk: Mapping[str, bytes], *, max_pixels: int
) -> ReceivedObject:
    """A VL Photographic Image made from DICOM JSON metadata whose Pixel Data is a Bulk Data URI
    naming a JPEG of ``bulk`` (by Content-Location); the JPEG normalised as every photo is."""
    pixel = metadata.get("7FE00010", {})
    uri = pixel.get("BulkDataURI") if isinstance(pixel, Mapping) else None
    if not uri or uri not in bulk:
        raise _mismatch("Pixel Data must be a BulkDataURI naming a JPEG part of the request.")
    header = {tag: value for tag, value in metadata.items() if tag != "7FE00010"}
    try:
        dataset = Dataset.from_json(dict(header))
    except Exception as exc:  # the readers raise many kinds for bad input
        raise Refused(
            status.CANNOT_UNDERSTAND, f"The DICOM JSON metadata is not usable: {exc}"
        ) from None
    sop_class = str(dataset.get("SOPClassUID", VLPhotographicImageStorage))
    if sop_class not in PHOTO_CLASSES:
        raise Refused(
            status.SOP_CLASS_NOT_SUPPORTED,
            f"JSON and JPEG make photos (VL Photographic, Dermoscopic), not {sop_class}.",
        )
    try:
        photo = normalise_photo(bulk[uri], max_pixels=max_pixels)
    except PhotoRejected as exc:
        raise _mismatch(f"The JPEG is refused: {exc}") from None
    dataset.SOPClassUID = sop_class
    dataset.Rows, dataset.Columns = photo.rows, photo.columns
    dataset.SamplesPerPixel = 3 if photo.photometric == "YBR_FULL_422" else 1
    dataset.PhotometricInterpretation = photo.photometric
    if dataset.SamplesPerPixel == 3:
        dataset.PlanarConfiguration = 0
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 8, 8, 7
    dataset.PixelRepresentation = 0
    dataset.LossyImageCompression = "01"
    dataset.LossyImageCompressionMethod = LOSSY_METHOD
    dataset.PixelData = encapsulate_single_frame(photo.jpeg)
    dataset["PixelData"].VR = "OB"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(str(dataset.get("SOPInstanceUID", "")))
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    part10 = io.BytesIO()
    FileDataset("", dataset, file_meta=meta, preamble=b"\x00" * 128).save_as(
        part10, enforce_file_format=True
    )
    data = part10.getvalue()
    return replace(_checked(dcmread(io.BytesIO(data)), data, max_pixels=max_pixels), converted=True)
