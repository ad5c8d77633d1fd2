"""Orthanc as a DICOMweb client of Pointcare, as another hospital's archive would be: it searches
Pointcare (QIDO-RS through its ``/dicom-web/servers/{name}/qido``) and pulls studies into its
own storage (WADO-RS through ``/retrieve``), with a bearer token in its server entry."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from typing import Any

import httpx
import pydicom
import pytest

from tests.integration.dicomweb.live import MRN, Live, live_archive
from tests.support.orthanc import Orthanc

SERVER = "pointcare"


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[Live]:
    with live_archive(module_database_url) as found:
        yield found


@pytest.fixture(scope="module")
def orthanc(live: Live) -> Iterator[httpx.Client]:
    """Orthanc with Pointcare declared as a DICOMweb server (a clinician's bearer token)."""
    peer = Orthanc.create().start()
    try:
        with httpx.Client(
            base_url=peer.url, auth=(peer.user, peer.password), trust_env=False, timeout=120
        ) as client:
            declared = client.put(
                f"/dicom-web/servers/{SERVER}",
                json={
                    "Url": f"{live.server.url}/dicomweb",
                    "HttpHeaders": {"Authorization": f"Bearer {live.doctor}"},
                },
            )
            assert declared.status_code == 200, declared.text
            yield client
    finally:
        peer.remove()


def qido(orthanc: httpx.Client, uri: str, **arguments: str) -> list[dict[str, Any]]:
    response = orthanc.post(
        f"/dicom-web/servers/{SERVER}/qido", json={"Uri": uri, "Arguments": arguments}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_orthanc_searches_pointcare(live: Live, orthanc: httpx.Client) -> None:
    # Orthanc hands back each attribute with a single value, as text.
    [study] = qido(orthanc, "/studies", PatientID=MRN)
    assert study["0020000D"]["Value"] == live.study
    assert study["00100010"]["Value"] == "Ångström^Zoë"
    assert study["00081190"]["Value"] == f"{live.server.url}/dicomweb/studies/{live.study}"
    instances = qido(orthanc, f"/studies/{live.study}/instances")
    assert sorted(item["00080018"]["Value"] for item in instances) == sorted(live.sops)
    # Not asked: a search that matches nothing. Pointcare answers 204 as PS3.18 says, and the
    # DICOMweb plugin 1.7 of Orthanc 1.10 takes an empty body for a bad file (docs/conformance.md).


def test_orthanc_pulls_a_study_with_every_pixel(live: Live, orthanc: httpx.Client) -> None:
    pulled = orthanc.post(
        f"/dicom-web/servers/{SERVER}/retrieve",
        json={"Resources": [{"Study": live.study}], "Asynchronous": False},
    )
    assert pulled.status_code == 200, pulled.text
    found = orthanc.post(
        "/tools/find",
        json={"Level": "Instance", "Query": {"StudyInstanceUID": live.study}, "Expand": True},
    )
    held = {item["MainDicomTags"]["SOPInstanceUID"]: item["ID"] for item in found.json()}
    assert sorted(held) == sorted(live.sops)
    for sop, orthanc_id in held.items():
        copy = pydicom.dcmread(BytesIO(orthanc.get(f"/instances/{orthanc_id}/file").content))
        original = pydicom.dcmread(BytesIO(live.archived(sop)))
        assert copy.PatientID == MRN
        # Orthanc asks for the stored syntax (transfer-syntax=*): the same JPEG, byte for byte.
        assert copy.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert copy.PixelData == original.PixelData
