"""Several batches under way at once (``POINTCARE_DELIVERY_CONCURRENT_REQUESTS``), against a
real Orthanc through ``PacsProxy``.

(a) Two unreadable objects among twelve photos sent in batches of four by three lanes: Orthanc
    refuses their batches whole; each refused batch is sent again one photo at a time, the good
    photos are delivered once (one attempt each, one copy in Orthanc), the two bad ones alone are
    retried and then parked. (b) A worker with three lanes is SIGKILLed while Orthanc has stored
    a batch it was never told about, and other batches are under way: after a restart Orthanc
    holds each photo once, and each delivery is recorded delivered once.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from pointcare.archive.outbox import AttemptOutcome, DeliveryState
from pointcare.db.models import Delivery, DeliveryAttempt
from pointcare.runtime import build_runtime
from tests.integration.delivery.conftest import (
    PHOTO_COUNT,
    MakeSite,
    Site,
    WorkerProcess,
    in_process_app,
    upload_photos,
    wait_for,
)
from tests.support.orthanc import Orthanc
from tests.support.pacs_proxy import PacsProxy

pytestmark = pytest.mark.slow

LANES = 3
UNREADABLE = "(unreadable)"
TIMEOUT = 60.0


def delivered_attempts(site: Site) -> Counter[int]:
    """Delivery id -> how many of its attempts ended delivered."""
    with site.db.session() as session:
        rows = session.scalars(
            select(DeliveryAttempt.delivery_id).where(
                DeliveryAttempt.outcome == AttemptOutcome.DELIVERED.value
            )
        ).all()
    return Counter(rows)


def uid_of_delivery(site: Site) -> dict[int, str]:
    uid = {instance.id: instance.sop_instance_uid for instance in site.instances()}
    return {d.id: uid[d.instance_id] for d in site.deliveries() if d.instance_id}


def test_refused_photos_of_concurrent_batches_are_retried_alone_and_the_others_delivered_once(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            delivery_batch_size=4,
            delivery_concurrent_requests=LANES,
            delivery_max_attempts=2,
        )
        with in_process_app(site) as client:
            sent = upload_photos(client, site, photos[:12])
        bad = {sent[1]["sop_instance_uid"], sent[10]["sop_instance_uid"]}
        for spool in site.spool_files():
            if spool.stem in bad:
                spool.write_bytes(b"\0" * 128 + b"DICM" + b"not a data set" * 20)

        runtime = build_runtime(site.settings)
        forwarder = runtime.new_forwarder()
        assert forwarder is not None
        stop = threading.Event()
        thread = threading.Thread(target=forwarder.run, args=(stop,))
        thread.start()
        try:
            wait_for(
                lambda: (
                    site.states()[DeliveryState.DELIVERED] == 10
                    and site.states()[DeliveryState.PARKED] == 2
                ),
                timeout=TIMEOUT,
                what="ten delivered and the two unreadable ones parked",
            )
        finally:
            stop.set()
            thread.join(30)
            runtime.close()

    good = {answer["sop_instance_uid"] for answer in sent} - bad
    in_pacs = orthanc.sop_uids(sent[0]["study_instance_uid"])
    assert sorted(in_pacs) == sorted(good)  # each good photo once, no bad one
    # (The proxy lists an object it cannot read as "(unreadable)".)
    whole = [request for request in proxy.stow_requests if len(request) > 1]
    in_whole = Counter(uid for request in whole for uid in request)
    assert all(in_whole[uid] == 1 for uid in good)  # each good photo in one batch...
    alone = Counter(r[0] for r in proxy.stow_requests if len(r) == 1 and r[0] in good)
    assert sorted(alone.values()) == [1] * 6  # ...the six beside a bad one sent again alone
    refused = [r for r in whole if UNREADABLE in r and set(r) - {UNREADABLE}]
    assert len(refused) == 2  # the two batches with a bad photo, refused whole,
    assert {uid for request in refused for uid in request} - {UNREADABLE} == set(alone)
    bad_alone = [r for r in proxy.stow_requests if r == [UNREADABLE]]
    assert len(bad_alone) == 4  # each bad photo alone in both its attempts
    uids = uid_of_delivery(site)
    once = delivered_attempts(site)
    assert {uids[delivery_id] for delivery_id in once} == good
    assert set(once.values()) == {1}
    with site.db.session() as session:
        parked = session.scalars(
            select(Delivery).where(Delivery.state == DeliveryState.PARKED.value)
        ).all()
        assert {uids[d.id] for d in parked} == bad
        assert all(d.attempts == 2 for d in parked)
    assert {path.stem for path in site.spool_files()} == bad  # only theirs are kept


def test_a_worker_with_several_batches_under_way_killed_leaves_each_photo_once(
    orthanc: Orthanc,
    make_site: MakeSite,
    photos: list[bytes],
    workers: Callable[[dict[str, str]], WorkerProcess],
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            delivery_batch_size=5,
            delivery_concurrent_requests=LANES,
        )
        env = site.env()
        with in_process_app(site) as client:
            stored = upload_photos(client, site, photos)
        study = stored[0]["study_instance_uid"]

        # Orthanc stores the fourth batch, but the worker never hears of it; the other lanes
        # go on meanwhile, and the kill catches whatever they have under way.
        proxy.hold_stow(4)
        first = workers(env)
        assert proxy.held.wait(30), first.stderr
        first.signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        proxy.release()
        assert site.states()[DeliveryState.DELIVERED] < PHOTO_COUNT

        second = workers(env)
        wait_for(
            lambda: site.states()[DeliveryState.DELIVERED] == PHOTO_COUNT,
            timeout=TIMEOUT,
            what="all photos delivered after the restart",
        )
        second.signal(signal.SIGTERM)
        assert second.wait(15) == 0, second.stderr

    in_pacs = orthanc.sop_uids(study)
    assert len(in_pacs) == len(set(in_pacs)) == PHOTO_COUNT  # none twice
    assert set(in_pacs) == {photo["sop_instance_uid"] for photo in stored}
    assert set(delivered_attempts(site).values()) == {1}  # each recorded delivered once
    assert len(delivered_attempts(site)) == PHOTO_COUNT
    assert max(proxy.sent_counts().values()) == 2  # the held batch, sent again: stored once
    assert not site.spool_files()
