"""A real Pointcare server with two photos of one patient, for the tests that talk to it over
the network as other systems do (dicomweb-client, Orthanc).

The photos are uploaded over HTTP by the demo nurse; the bearer tokens come from the
``pointcare token`` command run on the server's own data folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

import httpx
import numpy as np
import pydicom
from dicomweb_client import DICOMwebClient
from PIL import Image
from pydicom.encaps import generate_frames

from pointcare.archive.files import FileStore
from pointcare.settings import Settings
from tests.integration.dicomweb.conftest import FOREARM
from tests.support.consent import CLINICAL_ONLY
from tests.support.server import LiveServer
from tests.support.tools import corpus

MRN = "PC100002"
PHOTOS = ("DSCN0021.jpg", "DSCN0025.jpg")
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
UNCOMPRESSED = "1.2.840.10008.1.2.1"


def stored_pixels(part10: bytes) -> np.ndarray:
    """The pixels of a stored photo, decoded here by Pillow."""
    frame = next(generate_frames(pydicom.dcmread(BytesIO(part10)).PixelData, number_of_frames=1))
    with Image.open(BytesIO(frame)) as image:
        return np.asarray(image.convert("RGB"))


def image_size(data: bytes, kind: str) -> tuple[int, int]:
    with Image.open(BytesIO(data)) as image:
        assert image.format == kind
        return image.size


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

    def path(self, sop: str) -> str:
        return f"/dicomweb/studies/{self.study}/series/{self.series}/instances/{sop}"

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


@contextmanager
def live_archive(database_url: str) -> Iterator[Live]:
    """A server on ``database_url`` holding two photos of ``MRN``, in one series."""
    with LiveServer(demo=True, env={"POINTCARE_DATABASE_URL": database_url}) as server:
        doctor, nurse = cli_tokens(server, database_url, "doctor", "nurse")
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
