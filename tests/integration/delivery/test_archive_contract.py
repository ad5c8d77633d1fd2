"""One contract, two archives: the built-in archive and a PACS over DICOMweb (real Orthanc).

A photo is captured into the built-in archive through the API; each archive is then given its
Part-10 object and must confirm it (twice: storing is idempotent), find the patient's study and
its instances, and give the object back byte for byte, rendered, and as a thumbnail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from pydicom import dcmread
from sqlalchemy import select

from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.protocol import (
    THUMBNAIL_SIZE,
    Archive,
    InstanceRef,
    Outcome,
    OutgoingInstance,
    PatientKey,
)
from pointcare.db.models import Delivery
from pointcare.errors import NotFound
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.delivery.conftest import small_photo
from tests.support.orthanc import Orthanc

PATIENT = PatientKey("PC100001", "PCDEMO")


@dataclass(frozen=True)
class Captured:
    ref: InstanceRef
    part10: bytes


@pytest.fixture
def captured(runtime: Runtime, upload: Upload) -> Captured:
    response = upload(small_photo(7), patient_id=PATIENT.patient_id)
    assert response.status_code == 201, response.text
    body = response.json()
    ref = InstanceRef(
        body["study_instance_uid"], body["series_instance_uid"], body["sop_instance_uid"]
    )
    [path] = list(runtime.files.root.rglob(f"{ref.sop_instance_uid}.dcm"))
    return Captured(ref, path.read_bytes())


@pytest.fixture(params=["builtin", "dicomweb"])
def archive(request: pytest.FixtureRequest, runtime: Runtime) -> Iterator[Archive]:
    if request.param == "builtin":
        yield runtime.archive
        return
    orthanc: Orthanc = request.getfixturevalue("orthanc")
    pacs = DicomwebArchive(
        DicomwebConnection(
            url=orthanc.dicomweb_url, username=orthanc.user, password=orthanc.password
        )
    )
    yield pacs
    pacs.close()


def test_a_stored_object_is_confirmed_every_time_and_comes_back_byte_for_byte(
    archive: Archive, captured: Captured
) -> None:
    outgoing = [OutgoingInstance(captured.ref.sop_instance_uid, captured.part10)]
    for _ in range(2):  # a second store of the same instance is the same instance
        report = archive.store(outgoing)
        assert report.results[captured.ref.sop_instance_uid].outcome is Outcome.STORED
    assert archive.retrieve_instance(captured.ref) == captured.part10


def test_the_patients_study_and_its_instances_are_found(
    archive: Archive, captured: Captured
) -> None:
    archive.store([OutgoingInstance(captured.ref.sop_instance_uid, captured.part10)])
    studies = {s.study_instance_uid: s for s in archive.search_studies(PATIENT)}
    study = studies[captured.ref.study_instance_uid]
    assert study.modalities == ("XC",)
    assert study.number_of_instances == 1
    assert study.study_date is not None
    assert archive.search_instances(captured.ref.study_instance_uid) == [captured.ref]
    assert captured.ref.study_instance_uid not in {
        s.study_instance_uid for s in archive.search_studies(PatientKey("PC100002", "PCDEMO"))
    }


def test_rendered_and_thumbnail_are_jpegs_of_the_photo(
    archive: Archive, captured: Captured
) -> None:
    archive.store([OutgoingInstance(captured.ref.sop_instance_uid, captured.part10)])
    dataset = dcmread(BytesIO(captured.part10), stop_before_pixels=True)
    with Image.open(BytesIO(archive.retrieve_rendered(captured.ref))) as rendered:
        assert (rendered.format, rendered.size) == ("JPEG", (dataset.Columns, dataset.Rows))
    with Image.open(BytesIO(archive.retrieve_thumbnail(captured.ref))) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= THUMBNAIL_SIZE
    missing = InstanceRef(captured.ref.study_instance_uid, captured.ref.series_instance_uid, "1.2")
    with pytest.raises(NotFound):
        archive.retrieve_instance(missing)


def test_with_the_builtin_archive_nothing_is_queued_and_the_spool_is_the_archive(
    runtime: Runtime,
    captured: Captured,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
) -> None:
    assert runtime.new_forwarder() is None
    with runtime.db.session() as session:
        assert session.scalars(select(Delivery)).all() == []
    page = client.get("/admin/deliveries", headers=bearer("admin"))
    assert "nothing is delivered to a PACS" in page.text
