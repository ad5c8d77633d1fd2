"""Exactly once, under faults: real Orthanc, real ``pointcare serve`` and ``pointcare worker``.

(a) The PACS is down while 50 photos are taken: every upload is accepted; once Orthanc is up,
    all 50 reach it and the outbox empties. (b) A worker is SIGKILLed while Orthanc has stored a
    batch it was never told about: after a restart Orthanc still holds each photo once. (c) The
    PACS answers 500, then hangs: nothing is marked delivered, the delivery is parked, and an
    admin's retry delivers it; our DICOMweb still serves it once the spool copy is gone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator

import httpx
import pytest

from pointcare.archive.outbox import DeliveryState
from tests.integration.delivery.conftest import (
    PHOTO_COUNT,
    MakeSite,
    WorkerProcess,
    in_process_app,
    upload_photos,
    wait_for,
)
from tests.support.orthanc import Orthanc
from tests.support.pacs_proxy import Mode, PacsProxy
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow

DELIVERY_TIMEOUT = 30.0
"""Bound on the time from "the PACS is reachable" to "everything is delivered"."""


@pytest.fixture
def stopped_orthanc() -> Iterator[Orthanc]:
    """An Orthanc of this test's own, not running yet."""
    server = Orthanc.create()
    try:
        yield server
    finally:
        server.remove()


def test_photos_taken_while_the_pacs_is_down_all_arrive_once_it_is_up(
    stopped_orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    site = make_site(stopped_orthanc)
    env = site.env()
    with LiveServer(data_dir=site.data_dir, env=env) as server:
        stored = upload_photos(server.url, site, photos)  # each answered 201
        assert site.states()[DeliveryState.PENDING] == PHOTO_COUNT
        assert len(site.spool_files()) == PHOTO_COUNT
        assert site.states()[DeliveryState.DELIVERED] == 0

        stopped_orthanc.start()
        wait_for(
            lambda: site.states()[DeliveryState.DELIVERED] == PHOTO_COUNT,
            timeout=DELIVERY_TIMEOUT,
            what="all photos delivered",
        )
        wait_for(lambda: not site.spool_files(), timeout=5, what="spool emptied")

    sent = {photo["sop_instance_uid"] for photo in stored}
    assert stopped_orthanc.count_patient_instances(site.mrn) == PHOTO_COUNT
    assert sorted(stopped_orthanc.sop_uids(stored[0]["study_instance_uid"])) == sorted(sent)
    assert site.states()[DeliveryState.PENDING] == site.states()[DeliveryState.PARKED] == 0
    assert len(site.thumbnails()) == PHOTO_COUNT  # the review pages keep their thumbnails


def test_a_worker_killed_mid_batch_leaves_each_photo_once_in_the_pacs(
    orthanc: Orthanc,
    make_site: MakeSite,
    photos: list[bytes],
    workers: Callable[[dict[str, str]], WorkerProcess],
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        # One batch at a time, so that "batch 2" is a known set (several at once: see
        # test_concurrent_delivery.py).
        site = make_site(orthanc, via=proxy.dicomweb_url, delivery_concurrent_requests=1)
        env = site.env()
        with in_process_app(site) as client:  # no forwarder: the 50 wait for the worker
            stored = upload_photos(client, site, photos)
        study = stored[0]["study_instance_uid"]

        # Batch 1 goes through; Orthanc stores batch 2, but the worker never hears of it.
        proxy.hold_stow(2)
        first = workers(env)
        assert proxy.held.wait(20), first.stderr
        first.signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        proxy.release()

        assert len(orthanc.sop_uids(study)) == 20  # what Orthanc holds...
        states = site.states()
        assert states[DeliveryState.DELIVERED] == 10  # ...is more than we know of
        assert states[DeliveryState.PENDING] == PHOTO_COUNT - 10

        second = workers(env)  # takes the dead worker's batch over once its lease expires
        wait_for(
            lambda: site.states()[DeliveryState.DELIVERED] == PHOTO_COUNT,
            timeout=DELIVERY_TIMEOUT,
            what="all photos delivered after the restart",
        )
        second.signal(signal.SIGTERM)
        assert second.wait(15) == 0, second.stderr  # a clean stop

    in_pacs = orthanc.sop_uids(study)
    assert len(in_pacs) == len(set(in_pacs)) == PHOTO_COUNT  # none twice
    assert set(in_pacs) == {photo["sop_instance_uid"] for photo in stored}
    assert orthanc.count_patient_instances(site.mrn) == PHOTO_COUNT
    resent = [uid for uid, count in proxy.sent_counts().items() if count > 1]
    assert set(resent) == set(proxy.forwarded_stow[1])  # only the batch the kill cut short
    assert not site.spool_files()


def test_an_unwell_pacs_is_retried_never_marked_delivered_nor_parked(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url, hang_seconds=2.5) as proxy:
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            dicomweb_timeout_seconds=1.0,
            delivery_lease_seconds=2.0,
            delivery_max_attempts=2,
            delivery_backoff_seconds=0.1,
            delivery_backoff_max_seconds=0.2,
        )
        proxy.plan = [Mode.ERROR, Mode.ERROR, Mode.HANG, Mode.HANG]
        with LiveServer(data_dir=site.data_dir, env=site.env()) as server:
            [photo] = upload_photos(server.url, site, photos[:1])
            wait_for(
                lambda: site.states()[DeliveryState.DELIVERED] == 1,
                timeout=DELIVERY_TIMEOUT,
                what="delivered once the PACS answers",
            )
        [delivery] = site.deliveries()
        assert delivery.attempts == 5  # twice the allowance, never parked
        assert proxy.answers[:2] == [500, 500]
        assert len(proxy.forwarded_stow) == 1  # only the fifth attempt reached Orthanc
    assert orthanc.sop_uids(photo["study_instance_uid"]) == [photo["sop_instance_uid"]]


def test_a_refusing_pacs_parks_the_photo_until_an_admin_retries(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            delivery_max_attempts=4,
            delivery_backoff_seconds=0.1,
            delivery_backoff_max_seconds=0.2,
        )
        proxy.mode = Mode.REFUSE
        with LiveServer(data_dir=site.data_dir, env=site.env()) as server:
            [photo] = upload_photos(server.url, site, photos[:1])
            wait_for(
                lambda: site.states()[DeliveryState.PARKED] == 1,
                timeout=20,
                what="the delivery parked",
            )
            [parked] = site.deliveries()
            assert parked.attempts == 4
            assert parked.delivered_at is None
            assert parked.last_error == "HTTP 400: the PACS refused the request"
            assert proxy.forwarded_stow == []  # no attempt ever reached Orthanc
            assert orthanc.sop_uids(photo["study_instance_uid"]) == []
            assert len(site.spool_files()) == 1  # kept while not delivered

            admin = site.headers("admin")
            with httpx.Client(base_url=server.url, headers=admin, timeout=10) as client:
                page = client.get("/admin/deliveries")
                assert page.status_code == 200
                assert photo["sop_instance_uid"] in page.text
                assert "HTTP 400: the PACS refused the request" in page.text

                proxy.mode = Mode.FORWARD
                retry = client.post(f"/admin/deliveries/{parked.id}/retry")
                assert retry.status_code == 303
                wait_for(
                    lambda: site.states()[DeliveryState.DELIVERED] == 1,
                    timeout=DELIVERY_TIMEOUT,
                    what="delivered after the admin's retry",
                )
                wait_for(lambda: not site.spool_files(), timeout=5, what="spool emptied")

                # Our DICOMweb now reads the photo from the PACS.
                path = (
                    f"/dicomweb/studies/{photo['study_instance_uid']}"
                    f"/series/{photo['series_instance_uid']}"
                    f"/instances/{photo['sop_instance_uid']}"
                )
                retrieved = client.get(
                    path, headers={"Accept": 'multipart/related; type="application/dicom"'}
                )
                assert retrieved.status_code == 200, retrieved.text
                assert photo["sop_instance_uid"].encode() in retrieved.content
                rendered = client.get(path + "/rendered", headers={"Accept": "image/jpeg"})
                assert rendered.status_code == 200
                assert rendered.content.startswith(b"\xff\xd8")
                thumbnail = client.get(path + "/thumbnail", headers={"Accept": "image/jpeg"})
                assert thumbnail.status_code == 200

    assert orthanc.sop_uids(photo["study_instance_uid"]) == [photo["sop_instance_uid"]]
