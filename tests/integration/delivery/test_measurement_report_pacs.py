"""A wound measurement report, as Pointcare encodes it, is accepted by Orthanc over STOW-RS
beside the photo it measures, and comes back whole over WADO-RS (read by highdicom)."""

from __future__ import annotations

import io

import highdicom as hd
import pydicom

from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.protocol import OutgoingInstance
from pointcare.dicom.modules import to_part10
from pointcare.imaging.photo import normalise_photo
from tests.support.orthanc import Orthanc
from tests.unit.dicom.test_measurement_report import TRACKING_UID, report
from tests.unit.dicom.test_photo import build
from tests.unit.imaging.images import jpeg_bytes, scene


def test_orthanc_accepts_the_report_and_returns_it(orthanc: Orthanc) -> None:
    photo = build(normalise_photo(jpeg_bytes(scene()), max_pixels=10**6))
    sr = report(photo)
    archive = DicomwebArchive(
        DicomwebConnection(
            url=orthanc.dicomweb_url, username=orthanc.user, password=orthanc.password
        )
    )
    try:
        outcome = archive.store(
            [
                OutgoingInstance(photo.SOPInstanceUID, to_part10(photo)),
                OutgoingInstance(sr.SOPInstanceUID, to_part10(sr)),
            ]
        )
    finally:
        archive.close()
    assert sorted(outcome.stored()) == sorted([photo.SOPInstanceUID, sr.SOPInstanceUID])
    assert sr.SOPInstanceUID in orthanc.sop_uids(photo.StudyInstanceUID)
    with orthanc.client() as client:
        answer = client.get(
            f"/studies/{sr.StudyInstanceUID}/series/{sr.SeriesInstanceUID}/instances/{sr.SOPInstanceUID}",
            headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
        )
    assert answer.status_code == 200
    body = answer.content
    start = body.index(b"DICM") - 128
    back = pydicom.dcmread(io.BytesIO(body[start:]))
    groups = hd.sr.Comprehensive3DSR.from_dataset(back).content.get_planar_roi_measurement_groups(
        tracking_uid=TRACKING_UID
    )
    (area,) = [m for m in groups[0].get_measurements() if m.name.meaning == "Area"]
    assert float(area.value) == 4.2412
