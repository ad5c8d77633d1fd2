"""Our Part 10 encoder: byte for byte pydicom's file for everything it takes, ValueError else."""

from __future__ import annotations

import io
from collections.abc import Callable

import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

from pointcare.dicom.modules import with_file_meta
from pointcare.dicom.part10 import FILE_META_VERSION, KEPT_APART, encode_part10
from pointcare.dicom.photo import encapsulate_single_frame
from tests.support.dicom_checks import pydicom_part10

SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.4"
SOP_INSTANCE = "2.25.1234567890123456789"  # odd length: a UI padded with NUL


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def every_vr() -> Dataset:
    """One element or more of each VR the encoder writes, odd and even lengths, several values,
    empty values, non-ASCII text and nested sequences."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = SOP_CLASS
    ds.SOPInstanceUID = SOP_INSTANCE
    ds.ImageType = ["ORIGINAL", "PRIMARY", "X"]  # CS, three values
    ds.RetrieveAETitle = "ARCHIVE"  # AE, odd
    ds.PatientAge = "071Y"  # AS
    ds.StudyDate = "20260504"  # DA
    ds.AcquisitionDateTime = "20260504093000.5+0200"  # DT, odd
    ds.StudyTime = "093000.25"  # TM, odd
    ds.RetrieveURL = "https://pacs.example/wado"  # UR (4-byte length), odd
    ds.InstitutionName = "Hôpital Saint-Éloi"  # LO, UTF-8 longer than its characters
    ds.ImageComments = "Line one\r\nligne deux, odd"  # LT
    ds.PatientName = "Öberg^Åsa"  # PN
    ds.OtherPatientNames = ["Yamada^Tarou=山田^太郎=やまだ^たろう", "Smith^Jo"]  # PN, 2 values
    ds.ReferringPhysicianName = ""  # PN, empty
    ds.StudyID = "S1"  # SH
    ds.AccessionNumber = ""  # SH, empty (Type 2)
    ds.DerivationDescription = "Cropped, odd"  # ST
    ds.StrainDescription = "Unlimited characters: é" * 3  # UC (4-byte length)
    ds.TextValue = "Unlimited text, odd"  # UT (4-byte length)
    ds.InstanceNumber = 7  # IS
    ds.ReferencedFrameNumber = [1, 2, 30]  # IS, three values
    ds.LossyImageCompressionRatio = "12.30"  # DS, kept as written
    ds.PixelSpacing = [0.5, 0.25]  # DS from floats
    ds.Rows = 480  # US
    ds.ReferencedFrameNumbers = [1, 2, 3]  # US, three values
    ds.SimpleFrameList = [4000000000, 1]  # UL, two values
    ds.TagAngleSecondAxis = -3  # SS
    ds.ReferencePixelX0 = -70000  # SL
    ds.RecommendedDisplayFrameRateInFloat = 29.97  # FL
    ds.EventElapsedTimes = [0.5, 1e-9]  # FD, two values
    ds.IconImageSequence = Sequence()  # SQ, empty
    ds.AnatomicRegionSequence = Sequence(
        [
            _item(
                CodeValue="14975008",
                CodingSchemeDesignator="SCT",
                CodeMeaning="Forearm",
                AnatomicRegionModifierSequence=Sequence(
                    [_item(CodeValue="7771000", CodingSchemeDesignator="SCT", CodeMeaning="Left")]
                ),
            ),
            _item(CodeValue="X1", CodingSchemeDesignator="99PCARE", CodeMeaning="Ödem"),
        ]
    )
    undefined = _item(CodeValue="A", CodingSchemeDesignator="DCM", CodeMeaning="Undefined item")
    undefined.is_undefined_length_sequence_item = True
    ds.ViewCodeSequence = Sequence([undefined])
    ds["ViewCodeSequence"].is_undefined_length = True
    ds.ConsentForClinicalTrialUseSequence = Sequence([_item(ConsentForDistributionFlag="NO")])
    ds.add_new(0x00091010, "LO", "PRIVATE CREATOR")  # a private element, kept in tag order
    ds.add_new(0x00091011, "OB", b"\x01\x02\x03")  # OB, odd: padded with NUL
    ds.add_new(0x00091012, "UN", b"\x00\x01")  # UN
    return ds


def as_file(ds: Dataset, syntax: str = ExplicitVRLittleEndian) -> FileDataset:
    return with_file_meta(ds, syntax)


def test_every_vr_it_writes_is_encoded_exactly_as_pydicom_does() -> None:
    ds = as_file(every_vr())
    assert b"".join(encode_part10(ds)) == pydicom_part10(ds)


def test_a_file_it_writes_reads_back_with_every_value() -> None:
    ds = as_file(every_vr())
    read = pydicom.dcmread(io.BytesIO(b"".join(encode_part10(ds))))
    assert read.OtherPatientNames[0] == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    assert read.InstitutionName == "Hôpital Saint-Éloi"
    assert read.AnatomicRegionSequence[0].AnatomicRegionModifierSequence[0].CodeMeaning == "Left"
    assert read.SimpleFrameList == [4000000000, 1]
    assert read.file_meta.MediaStorageSOPInstanceUID == SOP_INSTANCE
    assert read.file_meta.FileMetaInformationVersion == FILE_META_VERSION


@pytest.mark.parametrize("length", [1, KEPT_APART - 1, KEPT_APART, KEPT_APART + 1])
def test_encapsulated_pixel_data_of_any_length_matches_and_large_values_are_not_copied(
    length: int,
) -> None:
    ds = every_vr()
    ds.PixelData = encapsulate_single_frame(b"\xff\xd8" + b"\x55" * length + b"\xff\xd9")
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    file = as_file(ds, JPEGBaseline8Bit)
    chunks = encode_part10(file)
    assert b"".join(chunks) == pydicom_part10(file)
    value = ds["PixelData"].value
    assert [chunk for chunk in chunks if chunk is value] == (
        [value] if len(value) >= KEPT_APART else []
    )


def test_a_large_value_with_a_defined_length_is_passed_on_too() -> None:
    ds = every_vr()
    ds.EncapsulatedDocument = b"%PDF-" + b"x" * (KEPT_APART + 1)  # OB, even length
    file = as_file(ds)
    chunks = encode_part10(file)
    assert b"".join(chunks) == pydicom_part10(file)
    assert any(chunk is ds.EncapsulatedDocument for chunk in chunks)


def _with(change: Callable[[FileDataset], None]) -> FileDataset:
    ds = as_file(every_vr())
    change(ds)
    return ds


def _set(keyword: str, value: object) -> Callable[[FileDataset], None]:
    return lambda ds: setattr(ds, keyword, value)


def _syntax(uid: str) -> Callable[[FileDataset], None]:
    return lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", uid)


def _drop_meta(keyword: str) -> Callable[[FileDataset], None]:
    return lambda ds: delattr(ds.file_meta, keyword)


def _add(tag: int, vr: str, value: object) -> Callable[[FileDataset], None]:
    return lambda ds: ds.add_new(tag, vr, value)


def _item_character_set(character_set: str) -> Callable[[FileDataset], None]:
    return lambda ds: setattr(ds.AnatomicRegionSequence[1], "SpecificCharacterSet", character_set)


def _meta_outside_group_2(ds: FileDataset) -> None:
    ds.file_meta._dict[pydicom.tag.Tag(0x00080016)] = ds["SOPClassUID"]


def _not_encapsulated(ds: FileDataset) -> None:
    ds.PixelData = b"\x00\x01" * 8
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True


REFUSED = {
    "implicit VR": (_syntax(ImplicitVRLittleEndian), "not explicit VR little endian"),
    "big endian": (_syntax(ExplicitVRBigEndian), "not explicit VR little endian"),
    "deflated": (_syntax(DeflatedExplicitVRLittleEndian), "deflated"),
    "not a transfer syntax": (_syntax(SOP_CLASS), "not explicit VR little endian"),
    "no meta version": (_drop_meta("FileMetaInformationVersion"), "FileMetaInformationVersion"),
    "no implementation": (_drop_meta("ImplementationClassUID"), "ImplementationClassUID"),
    "meta names another object": (
        lambda ds: setattr(ds.file_meta, "MediaStorageSOPInstanceUID", "1.2.3"),
        "MediaStorageSOPInstanceUID differs",
    ),
    "meta outside group 2": (_meta_outside_group_2, "outside group 0002"),
    "meta in the data set": (_add(0x00020013, "SH", "X"), "file meta"),
    "latin-1": (_set("SpecificCharacterSet", "ISO_IR 100"), "only ISO_IR 192"),
    "two character sets": (
        _set("SpecificCharacterSet", ["ISO 2022 IR 6", "ISO 2022 IR 87"]),
        "only ISO_IR 192",
    ),
    "an item in latin-1": (_item_character_set("ISO_IR 100"), "only ISO_IR 192"),
    "an item in ASCII, in UTF-8": (_item_character_set(""), "differs from its data set's"),
    "non-ASCII code string": (_set("Modality", "XÇ"), "ascii"),
    "too long for LO": (_set("InstitutionName", "é" * 40000), "longer than its VR allows"),
    "OF": (_add(0x00640009, "OF", b"\x00" * 8), "VR OF"),
    "text that is not text": (_add(0x00091013, "LO", b"bytes"), "must be text"),
    "undefined length not encapsulated": (_not_encapsulated, "undefined length"),
}


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS", "ignore:The value length")
@pytest.mark.parametrize(("change", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_what_it_does_not_write_is_refused_with_the_reason(
    change: Callable[[FileDataset], None], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        encode_part10(_with(change))


def test_a_data_set_read_from_a_file_is_refused_not_rewritten() -> None:
    ds = as_file(every_vr())
    read = pydicom.dcmread(io.BytesIO(pydicom_part10(ds)))  # elements stay raw until used
    with pytest.raises(ValueError, match="read from a file"):
        encode_part10(read)


def test_a_missing_preamble_is_written_as_zeros_as_pydicom_does() -> None:
    meta = FileMetaDataset()
    ds = every_vr()
    file = as_file(ds)
    meta.update(file.file_meta)
    bare = FileDataset("", ds, file_meta=meta, preamble=None)
    assert b"".join(encode_part10(bare)) == pydicom_part10(bare)
