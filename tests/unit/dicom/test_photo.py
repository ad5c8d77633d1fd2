"""VL Photographic Image objects: every one round-trips through Part 10 and dciodvfy."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import UID

from pointcare.dicom.modules import Equipment, SeriesContext, StudyContext, to_part10
from pointcare.dicom.part10 import KEPT_APART, encode_part10
from pointcare.dicom.photo import (
    JPEG_BASELINE,
    VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    PhotoDetails,
    build_vl_photographic_image,
)
from pointcare.dicom.uids import new_uid
from pointcare.domain.body_sites import Aspect, Laterality, body_site
from pointcare.domain.consent import Consent, ConsentMethod
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.domain.views import View
from pointcare.imaging.photo import NormalisedPhoto, normalise_photo
from tests.support.dicom_checks import (
    KNOWN_DCIODVFY_FALSE_POSITIVES,
    VIEW_WARNINGS,
    assert_valid_dicom,
    dciodvfy_report,
    jpeg_has_metadata,
    jpeg_size,
    pydicom_part10,
)
from tests.unit.imaging.conftest import NormaliseCorpus
from tests.unit.imaging.images import jpeg_bytes, png_bytes, scene

CET = timezone(timedelta(hours=1))
CAPTURED_AT = datetime(2024, 11, 5, 14, 7, 30, tzinfo=CET)
FOREARM = body_site("14975008")
SACRUM = body_site("54735007")


def patient(family: str = "Öberg", given: str = "Åsa", **changes: Any) -> PatientIdentity:
    fields: dict[str, Any] = {
        "mrn": "RX0012345",
        "issuer": "NHS-TRUST-A",
        "family_name": family,
        "given_name": given,
        "birth_date": date(1948, 3, 9),
        "sex": Sex.FEMALE,
    }
    return PatientIdentity(**(fields | changes))


def consent(*, teaching: bool = False, publication: bool = False) -> Consent:
    return Consent(
        clinical_record=True,
        teaching=teaching,
        publication=publication,
        method=ConsentMethod.WRITTEN,
    )


def details(**changes: Any) -> PhotoDetails:
    fields: dict[str, Any] = {
        "sop_instance_uid": new_uid(),
        "instance_number": 1,
        "body_site": FOREARM,
        "laterality": Laterality.LEFT,
        "view": None,
        "description": "Skin tear, day 3",
        "operator_name": "NURSE^Nora",
        "captured_at": CAPTURED_AT,
        "consent": consent(),
        "recognizable": False,
        "sensitive": False,
    }
    return PhotoDetails(**(fields | changes))


def study(**changes: Any) -> StudyContext:
    fields: dict[str, Any] = {
        "study_instance_uid": new_uid(),
        "study_datetime": datetime(2024, 11, 5, 13, 0, tzinfo=UTC),
        "study_id": "PC1234",
        "accession_number": "",
        "admission_id": "ADM-778",
    }
    return StudyContext(**(fields | changes))


def build(photo: NormalisedPhoto, **overrides: Any) -> pydicom.Dataset:
    arguments: dict[str, Any] = {
        "photo": photo,
        "patient": patient(),
        "study": study(),
        "series": SeriesContext(
            series_instance_uid=new_uid(), series_number=1, description="Wound photos"
        ),
        "details": details(),
        "equipment": Equipment(
            software_versions="pointcare 0.1.0", institution_name="St Elsewhere"
        ),
    }
    return build_vl_photographic_image(**(arguments | overrides))


def round_trip(ds: pydicom.Dataset) -> tuple[bytes, pydicom.Dataset]:
    data = to_part10(ds)
    return data, pydicom.dcmread(io.BytesIO(data))


def only_frame(ds: pydicom.Dataset) -> bytes:
    frames = list(generate_frames(ds.PixelData, number_of_frames=1))
    assert len(frames) == 1
    frame: bytes = frames[0]
    return frame


PhotoSource = Callable[[NormaliseCorpus], NormalisedPhoto]
REPRESENTATIVE: dict[str, PhotoSource] = {
    "kept-4:2:0-phone": lambda n: n("phone", "jolla.jpg"),
    "kept-4:2:2-camera-gps": lambda n: n("gps", "DSCN0010.jpg"),
    "re-encoded-rotated": lambda n: n("orientation", "portrait_6.jpg"),
    "re-encoded-heic-p3": lambda n: n("heic", "iphone_IMG_5195.heic"),
    "kept-greyscale": lambda n: normalise_photo(jpeg_bytes(scene(mode="L")), max_pixels=10**6),
    "re-encoded-greyscale-png": lambda n: normalise_photo(
        png_bytes(scene(mode="L")), max_pixels=10**6
    ),
}


@pytest.mark.parametrize("source", REPRESENTATIVE.values(), ids=REPRESENTATIVE.keys())
@pytest.mark.parametrize(("family", "given"), [("Öberg", "Åsa"), ("O'Brien", "Seán")])
def test_objects_round_trip_and_pass_dciodvfy(
    normalised: NormaliseCorpus, source: PhotoSource, family: str, given: str
) -> None:
    photo = source(normalised)
    data, ds = round_trip(build(photo, patient=patient(family, given)))

    assert data[128:132] == b"DICM"
    assert ds.file_meta.TransferSyntaxUID == JPEG_BASELINE
    assert ds.SOPClassUID == VL_PHOTOGRAPHIC_IMAGE_STORAGE
    assert ds.Modality == "XC"
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == f"{family}^{given}"
    assert ds.PatientName.family_name == family
    frame = only_frame(ds)
    assert frame[: len(photo.jpeg)] == photo.jpeg
    assert len(frame) - len(photo.jpeg) in {0, 1}  # one pad byte makes an odd JPEG even
    assert (ds.Columns, ds.Rows) == jpeg_size(frame)
    assert not jpeg_has_metadata(frame)
    assert b"Exif" not in ds.PixelData
    assert ds.PhotometricInterpretation == photo.photometric
    assert ds.SamplesPerPixel == (1 if photo.photometric == "MONOCHROME2" else 3)
    assert ds.LossyImageCompression == "01"
    assert ds.ImageLaterality == "L"
    region = ds.AnatomicRegionSequence[0]
    assert (region.CodeValue, region.CodingSchemeDesignator) == ("14975008", "SCT")
    assert ds.TimezoneOffsetFromUTC == "+0100"
    assert_valid_dicom(data)


def test_pixels_decode_through_pydicom(normalised: NormaliseCorpus) -> None:
    _, ds = round_trip(build(normalised("gps", "DSCN0010.jpg")))
    pixels = ds.pixel_array
    assert pixels.shape == (480, 640, 3)


@pytest.mark.parametrize(
    ("teaching", "publication", "expected"),
    [
        (False, False, [(None, "NO")]),
        (True, False, [("RESTRICTED_REUSE", "YES")]),
        (True, True, [("RESTRICTED_REUSE", "YES"), ("PUBLIC_RELEASE", "YES")]),
        (False, True, [("PUBLIC_RELEASE", "YES")]),
    ],
)
def test_reuse_consent_is_recorded(
    teaching: bool, publication: bool, expected: list[tuple[str | None, str]]
) -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    given = details(consent=consent(teaching=teaching, publication=publication))
    data, ds = round_trip(build(photo, details=given))

    items = [
        (item.get("DistributionType"), item.ConsentForDistributionFlag)
        for item in ds.ConsentForClinicalTrialUseSequence
    ]
    assert items == expected
    assert all(
        "ClinicalTrialProtocolID" not in item for item in ds.ConsentForClinicalTrialUseSequence
    )
    errors, _ = dciodvfy_report(data)
    assert set(errors) <= KNOWN_DCIODVFY_FALSE_POSITIVES
    assert_valid_dicom(data)


def test_view_is_coded_with_its_scheme_declared() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    data, ds = round_trip(build(photo, details=details(view=View.DERMOSCOPIC)))

    view = ds.ViewCodeSequence[0]
    assert (view.CodeValue, view.CodingSchemeDesignator) == ("DERMOSCOPIC", "99PCARE")
    assert ds.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99PCARE"
    assert_valid_dicom(data, expected_warnings=VIEW_WARNINGS)


def test_the_face_of_the_site_is_an_anatomic_region_modifier() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    data, ds = round_trip(build(photo, details=details(aspect=Aspect.POSTERIOR)))

    [region] = ds.AnatomicRegionSequence
    assert (region.CodeValue, region.CodingSchemeDesignator) == ("14975008", "SCT")
    [modifier] = region.AnatomicRegionModifierSequence
    assert (modifier.CodeValue, modifier.CodingSchemeDesignator, modifier.CodeMeaning) == (
        "255551008",
        "SCT",
        "Posterior",
    )
    assert_valid_dicom(data)
    # Without an aspect: no modifier at all (an empty sequence would claim one).
    _data, plain = round_trip(build(photo))
    assert "AnatomicRegionModifierSequence" not in plain.AnatomicRegionSequence[0]


def test_a_face_the_site_does_not_have_is_refused() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    with pytest.raises(ValueError, match="aspect of forearm must be one of"):
        build(photo, details=details(aspect=Aspect.INFERIOR))
    with pytest.raises(ValueError, match="sacrum takes no aspect"):
        build(
            photo,
            details=details(
                body_site=SACRUM, laterality=Laterality.UNPAIRED, aspect=Aspect.ANTERIOR
            ),
        )


def test_dates_times_and_identity_attributes() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    unknown = patient(sex=Sex.UNKNOWN, birth_date=None)
    given = details(body_site=SACRUM, laterality=Laterality.UNPAIRED, recognizable=True)
    data, ds = round_trip(build(photo, patient=unknown, details=given))

    assert (ds.ContentDate, ds.ContentTime) == ("20241105", "140730")
    assert (ds.AcquisitionDate, ds.AcquisitionTime) == ("20241105", "140730")
    assert ds.AcquisitionDateTime == "20241105140730+0100"
    # The study began at 13:00 UTC: 14:00 in the capture's offset, which (0008,0201) states.
    assert (ds.StudyDate, ds.StudyTime) == ("20241105", "140000")
    assert ds.PatientSex == ""
    assert ds.PatientBirthDate == ""
    assert ds.PatientID == "RX0012345"
    assert ds.IssuerOfPatientID == "NHS-TRUST-A"
    assert ds.AdmissionID == "ADM-778"
    assert ds.ImageLaterality == "U"
    assert ds.RecognizableVisualFeatures == "YES"
    assert ds.OperatorsName == "NURSE^Nora"
    assert ds.ImageType == ["ORIGINAL", "PRIMARY"]
    assert ds.InstitutionName == "St Elsewhere"
    assert_valid_dicom(data)


def test_naive_capture_time_is_refused() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    with pytest.raises(ValueError, match="captured_at must be timezone-aware"):
        build(photo, details=details(captured_at=datetime(2024, 11, 5, 14, 7)))
    with pytest.raises(ValueError, match="study_datetime must be timezone-aware"):
        build(photo, study=study(study_datetime=datetime(2024, 11, 5, 13, 0)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"details": {"laterality": Laterality.UNPAIRED}}, "laterality must be R, L or B"),
        ({"details": {"sop_instance_uid": "1.2.03.4"}}, "SOPInstanceUID"),
        ({"details": {"instance_number": 0}}, "InstanceNumber"),
        ({"details": {"operator_name": "Nora\\Nurse"}}, "OperatorsName"),
        ({"details": {"description": "x" * 10241}}, "ImageComments"),
        ({"study": {"study_id": "S" * 17}}, "StudyID holds at most 16"),
        ({"study": {"accession_number": "A\x07"}}, "AccessionNumber"),
        ({"study": {"study_instance_uid": "not.a.uid"}}, "StudyInstanceUID"),
    ],
)
def test_bad_inputs_are_refused_naming_the_attribute(
    overrides: dict[str, dict[str, Any]], message: str
) -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    arguments: dict[str, Any] = {}
    if "details" in overrides:
        arguments["details"] = details(**overrides["details"])
    if "study" in overrides:
        arguments["study"] = study(**overrides["study"])
    with pytest.raises(ValueError, match=message):
        build(photo, **arguments)


def test_photo_inconsistent_with_its_jpeg_is_refused() -> None:
    photo = normalise_photo(jpeg_bytes(scene((160, 120)), subsampling=2), max_pixels=10**6)
    swapped = dataclasses.replace(photo, rows=photo.columns, columns=photo.rows)
    with pytest.raises(ValueError, match="Rows/Columns"):
        build(swapped)
    with pytest.raises(ValueError, match="not allowed in a VL image"):
        build(dataclasses.replace(photo, photometric="YBR_FULL"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SamplesPerPixel"):
        build(dataclasses.replace(photo, photometric="MONOCHROME2"))
    progressive = jpeg_bytes(scene((160, 120)), progressive=True)
    with pytest.raises(ValueError, match="baseline"):
        build(dataclasses.replace(photo, jpeg=progressive))


def test_uids_in_the_object_are_valid() -> None:
    photo = normalise_photo(jpeg_bytes(scene(), subsampling=2), max_pixels=10**6)
    _, ds = round_trip(build(photo))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert UID(ds[keyword].value).is_valid
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize("length", [1, 2, 1001, 4096])
def test_single_frame_encapsulation_matches_pydicom(length: int) -> None:
    # Odd lengths get the pad byte; the result must equal pydicom's general encapsulation.
    from pydicom.encaps import encapsulate

    from pointcare.dicom.photo import encapsulate_single_frame

    frame = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    assert encapsulate_single_frame(frame) == encapsulate([frame], has_bot=False)
    frames = list(generate_frames(encapsulate_single_frame(frame), number_of_frames=1))
    assert frames == [frame + b"\x00" * (length % 2)]


@pytest.mark.parametrize("source", REPRESENTATIVE.values(), ids=REPRESENTATIVE.keys())
def test_part10_pieces_are_exactly_pydicoms_file(
    source: PhotoSource, normalised: NormaliseCorpus
) -> None:
    ds = build(source(normalised))
    whole = pydicom_part10(ds)
    chunks = encode_part10(ds)
    # A photo's encapsulated JPEG is passed on as the very object the data set holds.
    photo = ds["PixelData"].value
    kept_apart = [chunk for chunk in chunks if chunk is photo]
    assert kept_apart == ([photo] if len(photo) >= KEPT_APART else [])
    assert b"".join(chunks) == whole
    assert "PixelData" in ds  # the data set is left as it was
    assert to_part10(ds) == whole
