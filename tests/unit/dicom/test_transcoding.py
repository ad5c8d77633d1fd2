"""Objects rewritten in Explicit VR Little Endian: valid, the same pixels, one frame at a time."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless

from pointcare.dicom.modules import to_part10
from pointcare.dicom.pixels import frame_image, layout, native_frame, stored_frame
from pointcare.dicom.transcoding import can_transcode, to_explicit_little_endian
from pointcare.imaging.photo import normalise_photo
from tests.support.dicom_checks import VIEW_WARNINGS, assert_valid_dicom
from tests.unit.dicom.test_photo import build
from tests.unit.imaging.images import jpeg_bytes, scene

PhotoObject = Callable[[str], bytes]


@pytest.fixture(scope="module")
def photo_object() -> PhotoObject:
    """A VL Photographic Image as Pointcare stores it (JPEG Baseline), in colour or grey."""

    def make(mode: str) -> bytes:
        photo = normalise_photo(jpeg_bytes(scene((161, 121), mode=mode)), max_pixels=10**6)
        return to_part10(build(photo))

    return make


def transcoded_bytes(source: bytes) -> bytes:
    return b"".join(to_explicit_little_endian(source).chunks())


@pytest.mark.parametrize(("mode", "photometric"), [("RGB", "RGB"), ("L", "MONOCHROME2")])
def test_a_photo_becomes_explicit_little_endian_with_the_decoded_pixels(
    photo_object: PhotoObject, mode: str, photometric: str
) -> None:
    source = photo_object(mode)
    prepared = to_explicit_little_endian(source)
    data = transcoded_bytes(source)
    assert prepared.size == len(data), "the size is known before any frame is decoded"
    result = pydicom.dcmread(io.BytesIO(data))
    original = pydicom.dcmread(io.BytesIO(source))
    assert result.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert result.PhotometricInterpretation == photometric
    assert (result.Rows, result.Columns) == (121, 161)
    assert result.LossyImageCompression == "01"
    assert result.SOPInstanceUID == original.SOPInstanceUID
    assert result.PatientName == original.PatientName
    with Image.open(io.BytesIO(stored_frame(original, 0))) as jpeg:
        expected = np.asarray(jpeg.convert("RGB" if mode == "RGB" else "L"))
    assert np.array_equal(result.pixel_array, expected)
    assert original.PhotometricInterpretation != "RGB" or mode == "L", "source left as it was"


def test_the_transcoded_object_passes_dciodvfy(photo_object: PhotoObject) -> None:
    assert_valid_dicom(transcoded_bytes(photo_object("RGB")), expected_warnings=VIEW_WARNINGS)


def test_frames_are_decoded_only_when_sent(photo_object: PhotoObject) -> None:
    chunks = to_explicit_little_endian(photo_object("RGB")).chunks()
    head = next(chunks)
    assert head.endswith(b"\xe0\x7f\x10\x00OB\x00\x00" + (161 * 121 * 3 + 1).to_bytes(4, "little"))
    frame = next(chunks)
    assert len(frame) == 161 * 121 * 3
    assert next(chunks) == b"\x00", "an odd value length gets its padding byte"
    assert next(chunks, None) is None


def test_native_objects_are_read_in_either_little_endian_syntax(photo_object: PhotoObject) -> None:
    explicit = pydicom.dcmread(io.BytesIO(transcoded_bytes(photo_object("RGB"))))
    buffer = io.BytesIO()
    explicit.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    explicit.save_as(buffer, implicit_vr=True, little_endian=True, enforce_file_format=True)
    implicit = buffer.getvalue()
    again = pydicom.dcmread(io.BytesIO(transcoded_bytes(implicit)))
    assert again.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert again.PixelData == explicit.PixelData
    assert native_frame(again, 0) == explicit.PixelData[: 161 * 121 * 3]


def test_planar_rgb_is_interleaved(photo_object: PhotoObject) -> None:
    interleaved = pydicom.dcmread(io.BytesIO(transcoded_bytes(photo_object("RGB"))))
    pixels = np.asarray(interleaved.pixel_array)
    interleaved.PlanarConfiguration = 1
    interleaved.PixelData = pixels.transpose(2, 0, 1).tobytes()
    assert np.array_equal(np.asarray(frame_image(interleaved, 0)), pixels)


def test_what_cannot_be_decoded_is_refused(photo_object: PhotoObject) -> None:
    assert not can_transcode(JPEG2000Lossless)
    dataset = pydicom.dcmread(io.BytesIO(photo_object("RGB")))
    dataset.file_meta.TransferSyntaxUID = JPEG2000Lossless
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    with pytest.raises(ValueError, match="cannot be decoded"):
        to_explicit_little_endian(buffer.getvalue())
    with pytest.raises(ValueError, match="frame 2 asked of an object of 1"):
        stored_frame(dataset, 1)
    assert layout(dataset).frame_length == 161 * 121 * 3
