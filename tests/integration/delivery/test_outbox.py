"""The outbox and the forwarder, on each database backend, with a scripted archive.

The ingest transaction queues each photo; claims are leases that a dead forwarder loses;
results are recorded per instance (delivered, retried with backoff, parked), and the spool copy
goes only once the archive confirmed it. Our DICOMweb then reads the object from the archive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.archive import outbox
from pointcare.archive.forwarder import ForwarderThread
from pointcare.archive.outbox import DeliveryState
from pointcare.archive.protocol import (
    ArchiveUnavailable,
    InstanceResult,
    Outcome,
)
from pointcare.archive.reader import InstanceReader
from pointcare.db.models import Instance
from pointcare.db.types import utcnow
from pointcare.runtime import Runtime
from tests.integration.delivery.scripted import (
    LEASE,
    POLICY,
    Photos,
    ScriptedArchive,
    claim,
    deliveries,
    forwarder_for,
    make_due,
    paths,
    scripted_app,  # noqa: F401 (fixture "app": the app delivers to a scripted PACS)
    scripted_settings,  # noqa: F401 (fixture "settings")
    uploaded_photos,  # noqa: F401 (fixture "photos")
)


def test_each_stored_photo_is_queued_in_the_same_transaction(
    runtime: Runtime, photos: Photos
) -> None:
    [uid] = photos(1)
    delivery = deliveries(runtime)[uid]
    assert (delivery.state, delivery.attempts, delivery.lease_owner) == ("pending", 0, None)
    with runtime.db.session() as session:
        assert outbox.delivery_state(session, delivery.instance_id) is DeliveryState.PENDING
        assert outbox.delivery_states(session, [delivery.instance_id, 999]) == {
            delivery.instance_id: DeliveryState.PENDING
        }
        assert outbox.delivery_state(session, 999) is None


def test_a_claim_is_a_lease_that_a_dead_forwarder_loses(runtime: Runtime, photos: Photos) -> None:
    uids = photos(2)
    assert sorted(claim(runtime, "dead")) == sorted(uids)
    assert claim(runtime, "other") == []  # leased to "dead"
    assert sorted(claim(runtime, "other", at=LEASE + timedelta(seconds=1))) == sorted(uids)

    results = {d.id: InstanceResult(Outcome.STORED) for d in deliveries(runtime).values()}
    with runtime.db.write() as session:
        late = outbox.record(session, owner="dead", results=results, now=utcnow(), policy=POLICY)
    assert (late.delivered, late.lost) == (0, 2)  # it no longer holds them
    with runtime.db.write() as session:
        done = outbox.record(session, owner="other", results=results, now=utcnow(), policy=POLICY)
    assert (done.delivered, done.lost) == (2, 0)


def test_concurrent_claimers_never_share_a_delivery(runtime: Runtime, photos: Photos) -> None:
    uids = photos(12)
    claims: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def claimer(owner: str) -> None:
        start.wait()
        with runtime.db.write() as session:
            got = outbox.claim(
                session, owner=owner, now=utcnow(), limit=4, lease=LEASE, policy=POLICY
            )
        claims[owner] = [item.ref.sop_instance_uid for item in got]

    threads = [threading.Thread(target=claimer, args=(f"f{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    claimed = [uid for got in claims.values() for uid in got]
    assert len(claimed) == len(set(claimed)) == len(uids)


def test_only_confirmed_photos_are_delivered_and_leave_the_spool(
    runtime: Runtime, photos: Photos
) -> None:
    stored, refused, unknown = photos(3)
    archive = ScriptedArchive()
    archive.outcomes = {refused: Outcome.FAILED, unknown: Outcome.UNCONFIRMED}
    assert forwarder_for(runtime, archive).run_once() == 3
    assert archive.calls == [[stored, refused, unknown]]  # one STOW-RS request for the batch

    after = deliveries(runtime)
    assert after[stored].state == "delivered"
    assert after[stored].delivered_at is not None
    assert after[stored].spool_removed_at is not None
    for uid in (refused, unknown):
        assert after[uid].state == "pending"
        assert after[uid].attempts == 1
        assert after[uid].last_error == f"scripted {archive.outcomes[uid]}"
        assert after[uid].next_attempt_at > utcnow() + timedelta(seconds=4)  # backed off
        assert after[uid].lease_owner is None
    files = {uid: paths(runtime, uid) for uid in (stored, refused, unknown)}
    assert not files[stored][0].exists()
    assert files[stored][1].exists()  # the thumbnail stays for the review pages
    assert all(path.exists() for uid in (refused, unknown) for path in files[uid])


def test_a_delivery_the_pacs_keeps_refusing_is_parked_until_an_admin_retries(
    runtime: Runtime, photos: Photos
) -> None:
    [uid] = photos(1)
    archive = ScriptedArchive()
    archive.outcomes = {uid: Outcome.FAILED}
    forwarder = forwarder_for(runtime, archive)
    for attempt in range(1, POLICY.max_attempts + 1):
        make_due(runtime)
        assert forwarder.run_once() == 1
        assert deliveries(runtime)[uid].attempts == attempt
    parked = deliveries(runtime)[uid]
    assert parked.state == "parked"
    assert parked.delivered_at is None
    make_due(runtime)
    assert forwarder.run_once() == 0  # parked: not sent again by itself

    with runtime.db.write() as session:
        assert outbox.retry_parked(session, utcnow(), parked.id) == 1
    assert (deliveries(runtime)[uid].state, deliveries(runtime)[uid].attempts) == ("pending", 0)
    archive.outcomes = {}
    assert forwarder.run_once() == 1
    assert deliveries(runtime)[uid].state == "delivered"


def test_a_missing_spool_copy_or_an_archive_that_raises_is_a_failed_attempt(
    runtime: Runtime, photos: Photos
) -> None:
    gone, other = photos(2)
    paths(runtime, gone)[0].unlink()
    archive = ScriptedArchive()
    archive.failure = RuntimeError("bug in the archive")
    assert forwarder_for(runtime, archive).run_once() == 2
    after = deliveries(runtime)
    assert after[gone].last_error == "the spool copy of this photo is missing on this server"
    assert after[other].last_error == "internal error: RuntimeError('bug in the archive')"
    assert {after[gone].state, after[other].state} == {"pending"}


def test_a_spool_copy_left_by_a_crash_after_the_commit_is_removed_later(
    runtime: Runtime, photos: Photos
) -> None:
    [uid] = photos(1)
    claim(runtime, "crashed")
    results = {deliveries(runtime)[uid].id: InstanceResult(Outcome.STORED)}
    with runtime.db.write() as session:  # recorded as delivered, then the process died
        outbox.record(session, owner="crashed", results=results, now=utcnow(), policy=POLICY)
    assert paths(runtime, uid)[0].exists()
    assert forwarder_for(runtime, ScriptedArchive()).run_once() == 0
    assert not paths(runtime, uid)[0].exists()
    assert deliveries(runtime)[uid].spool_removed_at is not None


def test_the_background_forwarder_delivers_and_stops_when_asked(
    runtime: Runtime, photos: Photos
) -> None:
    uids = photos(2)
    background = ForwarderThread(forwarder_for(runtime, ScriptedArchive()), join_timeout=5)
    background.start()
    try:
        for _ in range(100):
            if {d.state for d in deliveries(runtime).values()} == {"delivered"}:
                break
            threading.Event().wait(0.05)
    finally:
        background.stop()
    assert {uid: d.state for uid, d in deliveries(runtime).items()} == dict.fromkeys(
        uids, "delivered"
    )


def test_our_dicomweb_reads_a_delivered_photo_from_the_archive(
    runtime: Runtime, photos: Photos, client: TestClient[Litestar], bearer: Callable[..., dict]
) -> None:
    [uid] = photos(1)
    archive = ScriptedArchive()
    runtime.instances = InstanceReader(runtime.files, archive)
    original = paths(runtime, uid)[0].read_bytes()
    forwarder_for(runtime, archive).run_once()
    assert not paths(runtime, uid)[0].exists()

    with runtime.db.session() as session:
        instance = session.scalars(select(Instance).where(Instance.sop_instance_uid == uid)).one()
        path = (
            f"/dicomweb/studies/{instance.study.study_instance_uid}"
            f"/series/{instance.series.series_instance_uid}/instances/{uid}"
        )
    headers = bearer("clinician")
    as_stored = 'multipart/related; type="application/dicom"; transfer-syntax=*'
    retrieved = client.get(path, headers={**headers, "Accept": as_stored})
    assert retrieved.status_code == 200
    assert original in retrieved.content
    metadata = client.get(path + "/metadata", headers=headers)
    assert metadata.json()[0]["00080018"]["Value"] == [uid]
    assert client.get(path + "/rendered", headers=headers).content.startswith(b"\xff\xd8")
    assert client.get(path + "/thumbnail", headers=headers).status_code == 200

    archive.failure = ArchiveUnavailable("The PACS could not be reached; try again later.")
    down = client.get(path + "/rendered", headers=headers)
    assert down.status_code == 502
    assert down.json()["detail"] == "The PACS could not be reached; try again later."
    assert client.get(path + "/thumbnail", headers=headers).status_code == 200  # kept here
