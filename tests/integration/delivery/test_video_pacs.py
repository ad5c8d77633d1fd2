"""Orthanc, the stand-in PACS, takes our video clips and dermoscopic images over STOW-RS as it
takes photos, and gives them back byte for byte (WADO-RS, ``transfer-syntax=*``)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pydicom
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.app import create_app
from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.protocol import InstanceRef, OutgoingInstance
from pointcare.db.models import Instance, Patient
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
    stored_clip,
)
from pointcare.identity.names import name_key
from pointcare.imaging.photo import normalise_photo
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from pointcare.video.clip import ClipNormaliser
from tests.integration.conftest import PostClip
from tests.integration.delivery.conftest import delivering_to
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


# --- A clip through the outbox, then played back from the PACS --------------------------------


@pytest.fixture
def mrn() -> str:
    return f"VID{secrets.token_hex(5).upper()}"


@pytest.fixture
def settings(settings: Settings, orthanc: Orthanc) -> Settings:
    return delivering_to(settings, orthanc)


@pytest.fixture
def app(runtime: Runtime, mrn: str) -> Litestar:
    with runtime.db.write() as session:
        session.add(
            Patient(
                mrn=mrn,
                issuer="PCTEST",
                family_name="Clip",
                given_name="Test",
                name_key=name_key("Clip", "Test"),
                birth_date=date(1970, 3, 4),
                sex="F",
            )
        )
    return create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)


def test_a_stored_clip_is_delivered_and_then_played_from_the_pacs(
    runtime: Runtime,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    post_clip: PostClip,
    clips: ClipFactory,
    orthanc: Orthanc,
    mrn: str,
) -> None:
    response = post_clip(clips.make(made.VP9_WEBM), patient_id=mrn, issuer="PCTEST")
    assert response.status_code == 201, response.text
    body = response.json()
    spool = runtime.files.resolve(runtime_instance(runtime, body["sop_instance_uid"]))
    stored = spool.read_bytes()
    mp4 = stored_clip(stored)

    forwarder = runtime.new_forwarder()
    assert forwarder is not None
    assert forwarder.run_once() == 1
    assert orthanc.sop_uids(body["study_instance_uid"]) == [body["sop_instance_uid"]]
    assert not spool.exists()  # confirmed by the PACS: the spool copy is gone

    url = (
        f"/dicomweb/studies/{body['study_instance_uid']}/series/{body['series_instance_uid']}"
        f"/instances/{body['sop_instance_uid']}/rendered"
    )
    played = client.get(url, headers=bearer("clinician") | {"Range": "bytes=100-"})
    assert played.status_code == 206
    assert played.headers["content-type"] == "video/mp4"
    assert played.content == mp4[100:]


def runtime_instance(runtime: Runtime, sop: str) -> str:
    with runtime.db.session() as session:
        path = session.scalar(select(Instance.storage_path).where(Instance.sop_instance_uid == sop))
    assert path is not None
    return path
