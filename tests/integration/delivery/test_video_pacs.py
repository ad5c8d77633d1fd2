"""Orthanc, the stand-in PACS, takes our video clips and dermoscopic images over STOW-RS as it
takes photos, and gives them back byte for byte (WADO-RS, ``transfer-syntax=*``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pydicom
import pytest

from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.protocol import InstanceRef, OutgoingInstance
from pointcare.dicom.dermoscopy import (
    DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE,
    DermoscopyAcquisition,
    LightPolarization,
    SkinContact,
    build_dermoscopic_photography_image,
)
from pointcare.dicom.modules import Equipment, SeriesContext, to_part10
from pointcare.dicom.uids import new_uid
from pointcare.dicom.video import (
    MPEG4_HIGH_PROFILE_LEVEL_4_1,
    VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE,
    build_video_photographic_image,
)
from pointcare.imaging.photo import normalise_photo
from pointcare.video.clip import ClipNormaliser
from tests.support import clips as made
from tests.support.clips import ClipFactory
from tests.support.orthanc import Orthanc
from tests.unit.dicom.test_photo import details, patient, study
from tests.unit.imaging.images import jpeg_bytes, scene


@pytest.fixture
def pacs(orthanc: Orthanc) -> Iterator[DicomwebArchive]:
    archive = DicomwebArchive(
        DicomwebConnection(
            url=orthanc.dicomweb_url, username=orthanc.user, password=orthanc.password
        )
    )
    yield archive
    archive.close()


def _placed(sop: str, mrn: str) -> dict[str, Any]:
    return {
        "patient": patient(mrn=mrn),
        "study": study(),
        "series": SeriesContext(series_instance_uid=new_uid(), series_number=1),
        "details": details(sop_instance_uid=sop),
    }


def _stored_and_returned(pacs: DicomwebArchive, orthanc: Orthanc, part10: bytes) -> pydicom.Dataset:
    dataset = pydicom.dcmread(io.BytesIO(part10))
    sop = dataset.SOPInstanceUID
    report = pacs.store([OutgoingInstance(sop, part10)])
    assert report.stored() == [sop]
    assert orthanc.sop_uids(dataset.StudyInstanceUID) == [sop]
    ref = InstanceRef(dataset.StudyInstanceUID, dataset.SeriesInstanceUID, sop)
    returned = pacs.retrieve_instance(ref)
    assert returned == part10
    return dataset


def test_a_video_clip_is_delivered_and_retrieved_byte_for_byte(
    pacs: DicomwebArchive, orthanc: Orthanc, clips: ClipFactory, clip_normaliser: ClipNormaliser
) -> None:
    clip = clip_normaliser.normalise(clips.make(made.PHONE_MOV))
    sop = new_uid()
    part10 = to_part10(
        build_video_photographic_image(
            clip=clip,
            equipment=Equipment(software_versions="pointcare test"),
            **_placed(sop, "VID0001"),
        )
    )
    dataset = _stored_and_returned(pacs, orthanc, part10)
    assert dataset.SOPClassUID == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
    assert dataset.file_meta.TransferSyntaxUID == MPEG4_HIGH_PROFILE_LEVEL_4_1


def test_a_dermoscopic_image_is_delivered_and_retrieved_byte_for_byte(
    pacs: DicomwebArchive, orthanc: Orthanc
) -> None:
    photo = normalise_photo(jpeg_bytes(scene()), max_pixels=10**6)
    sop = new_uid()
    part10 = to_part10(
        build_dermoscopic_photography_image(
            photo=photo,
            equipment=Equipment(
                software_versions="pointcare test", model_name="Pointcare", device_serial="t-1"
            ),
            acquisition=DermoscopyAcquisition(
                polarization=LightPolarization.POLARIZED, contact=SkinContact.NON_CONTACT
            ),
            frame_of_reference_uid=new_uid(),
            **_placed(sop, "DMS0001"),
        )
    )
    dataset = _stored_and_returned(pacs, orthanc, part10)
    assert dataset.SOPClassUID == DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
    assert dataset.Modality == "DMS"
