"""A COMMIT that goes unanswered never loses a stored object.

A proxy between Pointcare and PostgreSQL passes a store's COMMIT to the server and drops the
connection before the answer comes back (the photo is stored, Pointcare cannot know it), or
drops it instead of passing the COMMIT on (nothing is stored). Either way the phone's answer is
honest (stored: 201; not confirmed: 503 with Retry-After, then its retry with the same
capture_id) and every photo it was told is stored stays readable: over WADO-RS from the built-in
archive, or delivered to the PACS from its spool copy.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom import dcmread

from pointcare.app import create_app
from pointcare.archive.outbox import DeliveryState
from pointcare.runtime import build_runtime
from tests.integration.delivery.conftest import (
    FOREARM,
    ISSUER,
    MakeSite,
    Site,
    small_photo,
)
from tests.support.consent import CLINICAL_ONLY
from tests.support.orthanc import Orthanc
from tests.support.pg_proxy import PostgresProxy

INSTANCE_ROW = b"INSERT INTO instances"


@pytest.fixture
def proxy(database_backend: str, database_url: str) -> Iterator[PostgresProxy]:
    if database_backend != "postgresql":
        pytest.skip("a COMMIT over the network: PostgreSQL only")
    with PostgresProxy(database_url) as running:
        yield running


@pytest.fixture
def site(request: pytest.FixtureRequest, make_site: MakeSite, proxy: PostgresProxy) -> Site:
    """A site whose database is reached through the proxy: built-in archive, or a PACS."""
    archive: str = request.param
    if archive == "dicomweb":
        pacs: Orthanc = request.getfixturevalue("orthanc")
        return make_site(pacs, database_url=proxy.url)
    return make_site(request.getfixturevalue("orthanc"), database_url=proxy.url, archive="builtin")


@pytest.fixture
def client(site: Site) -> Iterator[TestClient[Litestar]]:
    runtime = build_runtime(site.settings)
    app = create_app(site.settings, runtime=runtime, forward_to_pacs=False)
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


def send(client: TestClient[Litestar], site: Site, capture_id: str, number: int) -> httpx.Response:
    return client.post(
        "/api/v1/photos",
        data={
            "patient_id": site.mrn,
            "issuer": ISSUER,
            "body_site": FOREARM,
            "laterality": "L",
            **CLINICAL_ONLY,
            "capture_id": capture_id,
            "captured_at": "2026-05-04T10:15:00+02:00",
        },
        files={"file": (f"photo{number}.jpg", small_photo(number), "image/jpeg")},
        headers=site.headers(),
    )


def store_until_answered(
    client: TestClient[Litestar], site: Site, number: int
) -> tuple[dict[str, Any], list[int]]:
    """Send a photo as the phone does: again with the same capture_id while the answer is 5xx."""
    capture_id = str(uuid.uuid4())
    statuses = []
    for _attempt in range(3):
        response = send(client, site, capture_id, number)
        statuses.append(response.status_code)
        if response.status_code < 500:
            break
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer, statuses


def readable(client: TestClient[Litestar], site: Site, photo: dict[str, Any]) -> str:
    """The SOP Instance UID in the object WADO-RS answers for ``photo``."""
    url = (
        f"/dicomweb/studies/{photo['study_instance_uid']}/series/"
        f"{photo['series_instance_uid']}/instances/{photo['sop_instance_uid']}"
    )
    response = client.get(
        url,
        headers={
            **site.headers("admin"),
            "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*',
        },
    )
    assert response.status_code == 200, response.text
    boundary = response.headers["content-type"].split("boundary=")[1].strip('"')
    part = response.content.split(f"--{boundary}".encode())[1]
    body = part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
    return str(dcmread(BytesIO(body)).SOPInstanceUID)


@pytest.mark.parametrize("site", ["builtin", "dicomweb"], indirect=True)
@pytest.mark.parametrize("reaches_server", [True, False], ids=["committed", "rolled-back"])
def test_an_unanswered_commit_loses_no_photo_and_stores_none_twice(
    site: Site,
    client: TestClient[Litestar],
    proxy: PostgresProxy,
    reaches_server: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before, _ = store_until_answered(client, site, 1)
    proxy.cut_commit_of(INSTANCE_ROW, reaches_server=reaches_server)
    photo, statuses = store_until_answered(client, site, 2)
    after, _ = store_until_answered(client, site, 3)

    assert proxy.cuts == 1
    if reaches_server:  # stored, and found stored although the COMMIT went unanswered
        assert statuses == [201]
    else:  # not stored: the phone is told to send again, and its retry stores it
        assert statuses == [503, 201]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback
    stored = [before, photo, after]
    assert len(site.instances()) == 3
    for answer in stored:
        assert readable(client, site, answer) == answer["sop_instance_uid"]
    # Its retry, once more, stores nothing new.
    again = send(client, site, photo["capture_id"], 2)
    assert again.status_code == 200
    assert again.json()["sop_instance_uid"] == photo["sop_instance_uid"]
    assert len(site.instances()) == 3

    if site.settings.delivers_to_pacs:
        runtime = build_runtime(site.settings)
        try:
            forwarder = runtime.new_forwarder()
            assert forwarder is not None
            forwarder.run_once()
        finally:
            runtime.close()
        assert site.states()[DeliveryState.DELIVERED] == 3
        for answer in stored:  # now read back from the PACS
            assert readable(client, site, answer) == answer["sop_instance_uid"]
