"""Objects received over STOW-RS: what is taken, and the reason given for what is not."""

from __future__ import annotations

import io
from collections.abc import Callable

import pydicom
import pytest
from pydicom.dataset import FileDataset
from pydicom.uid import (
    DermoscopicPhotographyImageStorage,
    JPEG2000Lossless,
    SecondaryCaptureImageStorage,
    VideoPhotographicImageStorage,
)

from pointcare.dicom import store_status as status
from pointcare.dicom.json_model import dataset_to_dicom_json
from pointcare.dicom.modules import to_part10
from pointcare.imaging.photo import normalise_photo
from pointcare.intake.received import Refused, from_metadata_and_jpeg, identify, read_part10
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom, jpeg_has_metadata
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import _dataset as pdf_dataset
from tests.unit.dicom.test_pdf import a_pdf
from tests.unit.dicom.test_photo import build
from tests.unit.imaging.images import jpeg_bytes, scene

MAX_PIXELS = 50_000_000
Change = Callable[[FileDataset], None]


def photo_object(change: Change | None = None) -> bytes:
    """A VL Photographic Image as a capture device would send it, changed by ``change`` (its
    file meta written as it is, right or wrong)."""
    photo = normalise_photo(jpeg_bytes(scene((161, 121))), max_pixels=MAX_PIXELS)
    dataset = build(photo)
    if change is not None:
        change(dataset)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=False)
    return buffer.getvalue()


def test_a_photo_is_taken_byte_for_byte() -> None:
    data = photo_object()
    received = read_part10(data, max_pixels=MAX_PIXELS)
    source = pydicom.dcmread(io.BytesIO(data))
    assert received.part10 is data
    assert (received.rows, received.columns) == (121, 161)
    assert received.sop_instance_uid == source.SOPInstanceUID
    assert received.patient.patient_id == "RX0012345"
    assert (received.patient.family_name, received.patient.given_name) == ("Öberg", "Åsa")
    assert received.patient.birth_date is not None and received.patient.sex == "F"
    assert received.is_image and not received.converted


def test_dermoscopy_video_and_pdf_are_taken() -> None:
    def dermoscopy(ds: FileDataset) -> None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = DermoscopicPhotographyImageStorage

    assert read_part10(photo_object(dermoscopy), max_pixels=MAX_PIXELS).is_image
    pdf = to_part10(pdf_dataset(a_pdf()))
    document = read_part10(pdf, max_pixels=MAX_PIXELS)
    assert (document.rows, document.columns) == (None, None)
    assert not document.is_image


@pytest.mark.parametrize(
    ("change", "code", "reason"),
    [
        (
            lambda ds: setattr(ds, "SOPClassUID", SecondaryCaptureImageStorage),
            status.SOP_CLASS_NOT_SUPPORTED,
            "is not stored here",
        ),
        (
            lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", JPEG2000Lossless),
            status.TRANSFER_SYNTAX_NOT_SUPPORTED,
            "is not taken for this SOP Class",
        ),
        (lambda ds: setattr(ds, "StudyInstanceUID", "1.02"), 0xA900, "StudyInstanceUID"),
        (lambda ds: setattr(ds, "Rows", 161), 0xA900, "the object says 161 x 161"),
        (lambda ds: delattr(ds, "PixelData"), 0xA900, "needs Pixel Data"),
        (lambda ds: setattr(ds, "PatientID", ""), 0xA900, "Patient ID is missing"),
        (
            lambda ds: ds.update({"Rows": 60_000, "Columns": 60_000}),
            status.OUT_OF_RESOURCES,
            "at most",
        ),
        (
            lambda ds: setattr(ds.file_meta, "MediaStorageSOPInstanceUID", "1.2.3"),
            0xA900,
            "file meta information",
        ),
    ],
    ids=[
        "sop-class",
        "syntax",
        "bad-uid",
        "swapped-size",
        "no-pixels",
        "no-patient",
        "huge",
        "meta",
    ],
)
def test_what_is_refused_says_why(change: Change, code: int, reason: str) -> None:
    data = photo_object(change)
    with pytest.raises(Refused, match=reason) as refused:
        read_part10(data, max_pixels=MAX_PIXELS)
    assert refused.value.code == code
    assert (
        identify(data).sop_instance_uid
        == pydicom.dcmread(io.BytesIO(data), force=True, stop_before_pixels=True).SOPInstanceUID
    )


def test_what_is_not_dicom_is_refused_and_reported_unnamed() -> None:
    with pytest.raises(Refused, match="Not a DICOM Part 10 object") as refused:
        read_part10(b"GIF89a" + b"\x00" * 200, max_pixels=MAX_PIXELS)
    assert refused.value.code == status.CANNOT_UNDERSTAND
    assert identify(b"not dicom").sop_instance_uid == ""


def test_a_pdf_must_be_a_pdf() -> None:
    dataset = pdf_dataset(a_pdf())
    dataset.EncapsulatedDocument = b"%GIF" + b"\x00" * 10
    with pytest.raises(Refused, match="does not hold a PDF"):
        read_part10(to_part10(dataset), max_pixels=MAX_PIXELS)


def test_videos_are_not_taken_yet() -> None:
    def video(ds: FileDataset) -> None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = VideoPhotographicImageStorage

    with pytest.raises(Refused) as refused:
        read_part10(photo_object(video), max_pixels=MAX_PIXELS)
    assert refused.value.code == status.SOP_CLASS_NOT_SUPPORTED


def test_json_metadata_and_a_phone_jpeg_become_a_valid_photo_without_exif() -> None:
    """The WIC form: the sender's metadata, our encapsulation of its (normalised) JPEG."""
    template = pydicom.dcmread(io.BytesIO(photo_object()))
    metadata = dataset_to_dicom_json(template, bulk_data={"PixelData": "http://sender/bulk/1"})
    for tag in ("00280010", "00280011", "00280004", "00280002", "00280006"):
        metadata.pop(tag, None)  # the image attributes come from the JPEG
    phone_jpeg = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    assert jpeg_has_metadata(phone_jpeg)
    received = from_metadata_and_jpeg(
        metadata, {"http://sender/bulk/1": phone_jpeg}, max_pixels=MAX_PIXELS
    )
    assert received.converted
    made = pydicom.dcmread(io.BytesIO(received.part10))
    assert made.SOPInstanceUID == template.SOPInstanceUID
    assert (made.Rows, made.Columns) == (480, 640)
    frame = next(pydicom.encaps.generate_frames(made.PixelData, number_of_frames=1))
    assert not jpeg_has_metadata(frame), "EXIF and GPS removed"
    assert_valid_dicom(received.part10, expected_warnings=VIEW_WARNINGS)


def test_json_metadata_must_name_its_jpeg() -> None:
    metadata = dataset_to_dicom_json(
        pydicom.dcmread(io.BytesIO(photo_object())), bulk_data={"PixelData": "http://x/1"}
    )
    with pytest.raises(Refused, match="BulkDataURI naming a JPEG"):
        from_metadata_and_jpeg(metadata, {}, max_pixels=MAX_PIXELS)
    with pytest.raises(Refused, match="The JPEG is refused"):
        from_metadata_and_jpeg(metadata, {"http://x/1": b"not a jpeg"}, max_pixels=MAX_PIXELS)
