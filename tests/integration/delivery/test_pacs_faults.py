"""The forwarder against a real Orthanc that misbehaves (through ``PacsProxy``).

(a) An answer lost after Orthanc stored the photo, then a 409 "duplicate" (Failure Reason 0111,
    as dcm4chee answers): the forwarder finds the photo in Orthanc by QIDO-RS and counts it
    delivered; a photo Orthanc does not hold stays refused. (b) One object Orthanc cannot read
    in a batch of ten: Orthanc refuses the request (400); sent again one by one, the nine others
    are delivered, the bad one alone is refused, then parked. (c) A PACS that trickles its
    answers past the lease, with two workers: the lease is renewed, each photo is sent once.
    (d) A request that goes on past ``POINTCARE_DELIVERY_BATCH_SECONDS`` is given up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import update

from pointcare.archive.forwarder import Forwarder
from pointcare.archive.outbox import DeliveryState
from pointcare.archive.protocol import Cause, Outcome, OutgoingInstance
from pointcare.db.models import Delivery
from pointcare.db.types import utcnow
from pointcare.runtime import build_runtime
from tests.integration.delivery.conftest import (
    MakeSite,
    Site,
    WorkerProcess,
    in_process_app,
    upload_photos,
    wait_for,
)
from tests.support.orthanc import Orthanc
from tests.support.pacs_proxy import Mode, PacsProxy

pytestmark = pytest.mark.slow


@contextmanager
def forwarder_of(site: Site) -> Iterator[Forwarder]:
    runtime = build_runtime(site.settings)
    try:
        forwarder = runtime.new_forwarder()
        assert forwarder is not None
        yield forwarder
    finally:
        runtime.close()


def make_due(site: Site) -> None:
    with site.db.write() as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow()))


def by_uid(site: Site, answers: list[dict[str, str]]) -> dict[str, Delivery]:
    instance_uid = {instance.id: instance.sop_instance_uid for instance in site.instances()}
    found = {instance_uid[d.instance_id]: d for d in site.deliveries() if d.instance_id}
    return {answer["sop_instance_uid"]: found[answer["sop_instance_uid"]] for answer in answers}


def test_a_duplicate_refusal_of_a_photo_the_pacs_holds_counts_as_delivered(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(orthanc, via=proxy.dicomweb_url)
        with in_process_app(site) as client, forwarder_of(site) as forwarder:
            [held] = upload_photos(client, site, photos[:1])
            proxy.mode = Mode.LOSE_ANSWER  # Orthanc stores it, we never hear back
            assert forwarder.run_once() == 1
            assert site.states()[DeliveryState.PENDING] == 1
            assert orthanc.sop_uids(held["study_instance_uid"]) == [held["sop_instance_uid"]]

            [unheld] = upload_photos(client, site, photos[1:2])
            proxy.mode = Mode.CONFLICT
            make_due(site)
            assert forwarder.run_once() == 2
            after = by_uid(site, [held, unheld])

    assert after[held["sop_instance_uid"]].state == DeliveryState.DELIVERED
    assert "found by QIDO-RS" in (after[held["sop_instance_uid"]].last_error or "")
    assert after[unheld["sop_instance_uid"]].state == DeliveryState.PENDING
    assert "does not find it" in (after[unheld["sop_instance_uid"]].last_error or "")
    assert len(site.spool_files()) == 1  # the delivered photo's copy is gone
    assert orthanc.count_patient_instances(site.mrn) == 1


def test_one_unreadable_photo_does_not_hold_back_its_batch(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(orthanc, via=proxy.dicomweb_url, delivery_max_attempts=2)
        with in_process_app(site) as client, forwarder_of(site) as forwarder:
            sent = upload_photos(client, site, photos[:10])
            bad = sent[3]
            [spool] = [p for p in site.spool_files() if p.stem == bad["sop_instance_uid"]]
            spool.write_bytes(b"\0" * 128 + b"DICM" + b"not a data set" * 20)

            assert forwarder.run_once() == 10
            assert [len(request) for request in proxy.stow_requests] == [10, *[1] * 10]
            states = {uid: d.state for uid, d in by_uid(site, sent).items()}
            assert states == {
                **{answer["sop_instance_uid"]: "delivered" for answer in sent},
                bad["sop_instance_uid"]: "pending",
            }
            make_due(site)
            assert forwarder.run_once() == 1
            parked = by_uid(site, [bad])[bad["sop_instance_uid"]]

    assert parked.state == DeliveryState.PARKED
    assert parked.last_error == "HTTP 400: the PACS refused the request"
    assert orthanc.count_patient_instances(site.mrn) == 9


def test_a_pacs_slower_than_the_lease_gets_each_photo_once_from_two_workers(
    orthanc: Orthanc,
    make_site: MakeSite,
    photos: list[bytes],
    workers: Callable[[dict[str, str]], WorkerProcess],
) -> None:
    with PacsProxy(orthanc.url, slow_seconds=4.0) as proxy:
        proxy.mode = Mode.SLOW  # each answer trickles in over 4 s; the lease is 2.5 s
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            delivery_batch_size=5,
            dicomweb_timeout_seconds=2.0,
            delivery_lease_seconds=2.5,
        )
        with in_process_app(site) as client:
            sent = upload_photos(client, site, photos[:5])  # one batch: one worker sends it,
        env = site.env()  # the other waits for a lease to run out
        started = [workers(env), workers(env)]
        wait_for(
            lambda: site.states()[DeliveryState.DELIVERED] == 5,
            timeout=60,
            what="all photos delivered",
        )
        for worker in started:
            assert "lease lost" not in worker.stderr

    assert set(proxy.sent_counts().values()) == {1}  # never sent twice
    assert len(proxy.sent_counts()) == 5
    assert sorted(orthanc.sop_uids(sent[0]["study_instance_uid"])) == sorted(
        answer["sop_instance_uid"] for answer in sent
    )


def test_a_request_longer_than_the_batch_deadline_is_given_up(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    with PacsProxy(orthanc.url, slow_seconds=6.0) as proxy:
        proxy.mode = Mode.SLOW  # every piece comes within the 2 s timeout
        site = make_site(orthanc, via=proxy.dicomweb_url, delivery_batch_seconds=1.5)
        with in_process_app(site) as client:
            [answer] = upload_photos(client, site, photos[:1])
        runtime = build_runtime(site.settings)
        try:
            spool = site.spool_files()[0].read_bytes()
            report = runtime.archive.store([OutgoingInstance(answer["sop_instance_uid"], spool)])
        finally:
            runtime.close()
    [result] = report.results.values()
    assert (result.outcome, result.why) == (Outcome.UNCONFIRMED, Cause.TIMEOUT)
    assert result.reason == "the PACS took more than 1.5 s for the request"
