"""A real server process, searched and read by the PyPI ``dicomweb-client`` as a PACS viewer would.

The photos are uploaded over HTTP by the demo nurse; the bearer tokens come from the
``pointcare token`` command run on the server's own data folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pydicom
import pytest
from dicomweb_client import DICOMwebClient
from PIL import Image
from requests import HTTPError

from pointcare.archive.files import FileStore
from pointcare.settings import Settings
from tests.integration.dicomweb.conftest import FOREARM, multipart_parts
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.tools import corpus

MRN = "PC100002"
PHOTOS = ("DSCN0021.jpg", "DSCN0025.jpg")


@dataclass(frozen=True)
class Live:
    server: LiveServer
    doctor: str
    nurse: str
    study: str
    series: str
    sops: list[str]

    def client(self, token: str | None = None) -> DICOMwebClient:
        return DICOMwebClient(
            url=self.server.url + "/dicomweb",
            headers={"Authorization": f"Bearer {token or self.doctor}"},
        )

    def archived(self, sop: str) -> bytes:
        """The Part-10 file as it lies in the server's archive folder."""
        files = FileStore(Settings(data_dir=self.server.data_dir).archive_dir)
        return files.resolve(files.object_path(self.study, self.series, sop)).read_bytes()


def cli_tokens(server: LiveServer, database_url: str, *users: str) -> list[str]:
    """Bearer tokens from ``pointcare token --user USER`` on the server's data folder and
    database (the commands run side by side: each one starts a Python and opens the database)."""
    env = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(server.data_dir),
        "POINTCARE_DATABASE_URL": database_url,
    }
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "pointcare", "token", "--user", user],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in users
    ]
    tokens = []
    for command in commands:
        out, err = command.communicate(timeout=60)
        assert command.returncode == 0, err
        tokens.append(out.strip())
    return tokens


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[Live]:
    with LiveServer(demo=True, env={"POINTCARE_DATABASE_URL": module_database_url}) as server:
        doctor, nurse = cli_tokens(server, module_database_url, "doctor", "nurse")
        stored = []
        with httpx.Client(base_url=server.url, trust_env=False, timeout=60) as http:
            for name in PHOTOS:
                photo = corpus("photos", "gps", name)
                response = http.post(
                    "/api/v1/photos",
                    data={
                        "patient_id": MRN,
                        "body_site": FOREARM,
                        "laterality": "R",
                        "capture_id": str(uuid.uuid4()),
                        "captured_at": "2025-02-03T14:05:00+01:00",
                        **CLINICAL_ONLY,
                    },
                    files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
                    headers={"Authorization": f"Bearer {nurse}"},
                )
                assert response.status_code == 201, response.text
                stored.append(response.json())
        assert len({item["series_instance_uid"] for item in stored}) == 1
        yield Live(
            server,
            doctor,
            nurse,
            stored[0]["study_instance_uid"],
            stored[0]["series_instance_uid"],
            [item["sop_instance_uid"] for item in stored],
        )


def test_search_studies_series_and_instances(live: Live) -> None:
    client = live.client()
    [study] = client.search_for_studies(search_filters={"PatientID": MRN})
    assert study["0020000D"]["Value"] == [live.study]
    assert study["00080020"]["Value"] == ["20250203"]
    assert study["00201208"]["Value"] == [2]
    assert client.search_for_studies(search_filters={"PatientID": "PC999999"}) == []
    [series] = client.search_for_series(study_instance_uid=live.study)
    assert series["0020000E"]["Value"] == [live.series]
    assert series["00080060"]["Value"] == ["XC"]
    instances = client.search_for_instances(
        study_instance_uid=live.study, series_instance_uid=live.series
    )
    assert [item["00080018"]["Value"][0] for item in instances] == live.sops
    by_date = client.search_for_studies(
        search_filters={"StudyDate": "20250201-20250228", "ModalitiesInStudy": "XC"}
    )
    assert [item["0020000D"]["Value"][0] for item in by_date] == [live.study]


def test_the_client_pages_through_results(live: Live) -> None:
    client = live.client()
    everything = client.search_for_instances(limit=1, get_remaining=True)
    assert sorted(item["00080018"]["Value"][0] for item in everything) == sorted(live.sops)


def test_retrieve_instance_is_the_archived_file(live: Live) -> None:
    sop = live.sops[0]
    archived = live.archived(sop)
    dataset = live.client().retrieve_instance(live.study, live.series, sop)
    # The client hands back a parsed data set; written out again it is the archived file,
    # preamble, file meta and encapsulated JPEG included.
    rewritten = BytesIO()
    dataset.save_as(rewritten, enforce_file_format=True)
    assert rewritten.getvalue() == archived
    assert dataset.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert dataset.PixelData == pydicom.dcmread(BytesIO(archived)).PixelData


def test_the_raw_multipart_answer_holds_the_archived_bytes(live: Live) -> None:
    sop = live.sops[1]
    url = f"{live.server.url}/dicomweb/studies/{live.study}/series/{live.series}/instances/{sop}"
    response = httpx.get(
        url,
        headers={
            "Authorization": f"Bearer {live.doctor}",
            "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*',
        },
        trust_env=False,
    )
    assert response.status_code == 200
    [(_type, payload)] = multipart_parts(response.headers["content-type"], response.content)
    assert payload == live.archived(sop)


def test_retrieve_study_and_metadata(live: Live) -> None:
    client = live.client()
    datasets = client.retrieve_study(live.study)
    assert [ds.SOPInstanceUID for ds in datasets] == live.sops
    metadata = client.retrieve_instance_metadata(live.study, live.series, live.sops[0])
    header = pydicom.Dataset.from_json({k: v for k, v in metadata.items() if k != "7FE00010"})
    assert header.PatientID == MRN
    assert header.ImageLaterality == "R"
    # dicomweb-client sends "Host: 127.0.0.1" without the port, so links the server builds from
    # the Host header lack it too: follow the link's path on the real address.
    pixel_link = urlsplit(metadata["7FE00010"]["BulkDataURI"])
    assert pixel_link.path == (
        f"/dicomweb/studies/{live.study}/series/{live.series}/instances/{live.sops[0]}/frames/1"
    )
    [frame] = client.retrieve_bulkdata(live.server.url + pixel_link.path)
    assert frame.startswith(b"\xff\xd8")
    [same_frame] = client.retrieve_instance_frames(
        live.study, live.series, live.sops[0], frame_numbers=[1], media_types=("image/jpeg",)
    )
    assert same_frame == frame


def test_retrieve_rendered(live: Live) -> None:
    client = live.client()
    full = client.retrieve_instance_rendered(live.study, live.series, live.sops[0])
    with Image.open(BytesIO(full)) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 480)
    small = client.retrieve_instance_rendered(
        live.study, live.series, live.sops[0], params={"viewport": "160,160"}
    )
    with Image.open(BytesIO(small)) as image:
        assert image.size == (160, 120)


def test_a_photographer_token_is_refused(live: Live) -> None:
    with pytest.raises(HTTPError) as refused:
        live.client(live.nurse).search_for_studies()
    assert refused.value.response is not None
    assert refused.value.response.status_code == 403


def test_files_are_where_the_test_expects_them(live: Live) -> None:
    # Guards the archived() helper: a wrong path would make the byte comparisons vacuous.
    archive_dir = Path(live.server.data_dir) / "archive" / "objects"
    assert sorted(p.stem for p in archive_dir.rglob("*.dcm")) == sorted(live.sops)
