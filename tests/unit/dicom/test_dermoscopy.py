"""Dermoscopic Photography Image objects (modality DMS): the photo's modules under their own SOP
class, with what is known of the dermatoscope; dciodvfy finds nothing but its own gap."""

from __future__ import annotations

import io
from typing import Any

import pydicom
import pytest

from pointcare.dicom.dermoscopy import (
    DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    DermoscopyAcquisition,
    ImmersionMedium,
    LightPolarization,
    SkinContact,
    build_dermoscopic_photography_image,
)
from pointcare.dicom.modules import Equipment, SeriesContext, to_part10
from pointcare.dicom.part10 import encode_part10
from pointcare.dicom.photo import JPEG_BASELINE
from pointcare.dicom.uids import new_uid
from pointcare.domain.views import View
from tests.support.dicom_checks import DERMOSCOPY_WARNINGS, assert_valid_dicom, pydicom_part10
from tests.unit.dicom.test_photo import details, patient, study
from tests.unit.imaging.conftest import NormaliseCorpus

EQUIPMENT = Equipment(
    software_versions="pointcare 0.1.0",
    institution_name="St Elsewhere",
    model_name="Pointcare",
    device_serial="ward-7-node-1",
)


def build(normalised: NormaliseCorpus, **overrides: Any) -> pydicom.Dataset:
    arguments: dict[str, Any] = {
        "photo": normalised("phone", "jolla.jpg"),
        "patient": patient(),
        "study": study(),
        "series": SeriesContext(series_instance_uid=new_uid(), series_number=3),
        "details": details(view=View.parse("dermoscopic"), description="Naevus, left forearm"),
        "equipment": EQUIPMENT,
        "acquisition": DermoscopyAcquisition(),
        "frame_of_reference_uid": new_uid(),
    }
    return build_dermoscopic_photography_image(**(arguments | overrides))


@pytest.mark.parametrize(
    "acquisition",
    [
        DermoscopyAcquisition(),
        DermoscopyAcquisition(
            polarization=LightPolarization.POLARIZED, contact=SkinContact.NON_CONTACT
        ),
        DermoscopyAcquisition(
            polarization=LightPolarization.NON_POLARIZED,
            contact=SkinContact.CONTACT,
            immersion=ImmersionMedium.ULTRASOUND_GEL,
            magnification=10,
        ),
        DermoscopyAcquisition(contact=SkinContact.CONTACT),
    ],
    ids=["nothing-known", "polarised-non-contact", "contact-gel-10x", "contact-medium-unknown"],
)
def test_objects_round_trip_and_pass_dciodvfy(
    normalised: NormaliseCorpus, acquisition: DermoscopyAcquisition
) -> None:
    data = to_part10(build(normalised, acquisition=acquisition))
    ds = pydicom.dcmread(io.BytesIO(data))

    assert ds.SOPClassUID == DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
    assert ds.file_meta.MediaStorageSOPClassUID == DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
    assert ds.file_meta.TransferSyntaxUID == JPEG_BASELINE
    assert ds.Modality == "DMS"
    assert "ViewCodeSequence" not in ds  # the SOP class says it
    assert (ds.ManufacturerModelName, ds.DeviceSerialNumber) == ("Pointcare", "ward-7-node-1")
    polarization = acquisition.polarization.value if acquisition.polarization else ""
    assert (ds.LightSourcePolarization or "") == polarization
    assert (ds.ContactMethod or "") == (acquisition.contact.value if acquisition.contact else "")
    assert ("ImmersionMedia" in ds) is (acquisition.contact is SkinContact.CONTACT)
    if acquisition.magnification:
        assert float(ds.OpticalMagnificationFactor) == acquisition.magnification
    assert ds.RecognizableVisualFeatures == "NO"
    assert ds.AnatomicRegionSequence[0].CodeValue == "14975008"
    assert_valid_dicom(data, expected_warnings=DERMOSCOPY_WARNINGS)


def test_our_encoder_writes_what_pydicom_writes(normalised: NormaliseCorpus) -> None:
    ds = build(normalised)
    assert b"".join(encode_part10(ds)) == pydicom_part10(ds)


@pytest.mark.parametrize(
    ("equipment", "words"),
    [
        (Equipment(software_versions="1", device_serial="x"), "ManufacturerModelName"),
        (Equipment(software_versions="1", model_name="Pointcare"), "DeviceSerialNumber"),
    ],
)
def test_the_equipment_must_be_named(
    normalised: NormaliseCorpus, equipment: Equipment, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        build(normalised, equipment=equipment)


def test_what_the_acquisition_cannot_be_is_refused() -> None:
    with pytest.raises(ValueError, match="only recorded for contact"):
        DermoscopyAcquisition(immersion=ImmersionMedium.ALCOHOL)
    with pytest.raises(ValueError, match="OpticalMagnificationFactor"):
        DermoscopyAcquisition(magnification=0)
