"""The outbox under faults, with a scripted archive, on each database backend.

Attempts are counted when claimed (a crash counts; a photo that keeps killing the forwarder is
parked), an unreachable PACS is retried for ever with a capped backoff and flagged overdue,
only refusals park, a request refused as a whole is sent again photo by photo, a duplicate is
delivered once the PACS is found to hold it, every attempt is in the history, a slow send keeps
its lease, and a restarted forwarder takes its dead predecessor's batch over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from pointcare.archive import outbox
from pointcare.archive.forwarder import Forwarder, ForwarderSettings
from pointcare.archive.protocol import Cause, InstanceResult, Outcome, OutgoingInstance, StoreReport
from pointcare.db.engine import Database
from pointcare.db.models import DeliveryAttempt
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
    scripted_app,  # noqa: F401 (fixture "app": the app delivers to a scripted PACS)
    scripted_settings,  # noqa: F401 (fixture "settings")
    uploaded_photos,  # noqa: F401 (fixture "photos")
)


def history(runtime: Runtime, uid: str) -> list[DeliveryAttempt]:
    delivery_id = deliveries(runtime)[uid].id
    with runtime.db.session() as session:
        return list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.number)
            )
        )


def test_an_unreachable_pacs_parks_nothing_and_overdue_deliveries_raise_an_alert(
    runtime: Runtime, photos: Photos, caplog: pytest.LogCaptureFixture
) -> None:
    [uid] = photos(1)
    archive = ScriptedArchive()
    archive.outcomes = {uid: InstanceResult(Outcome.UNCONFIRMED, "PACS down", Cause.UNREACHABLE)}
    forwarder = forwarder_for(runtime, archive)
    with caplog.at_level(logging.WARNING, logger="pointcare.archive.forwarder"):
        for _ in range(POLICY.max_attempts + 2):
            make_due(runtime)
            assert forwarder.run_once() == 1
    delivery = deliveries(runtime)[uid]
    assert (delivery.state, delivery.attempts, delivery.charged_attempts) == (
        "pending",
        POLICY.max_attempts + 2,
        0,
    )
    wait = delivery.next_attempt_at - utcnow()
    assert timedelta(0) < wait <= timedelta(seconds=POLICY.cap_seconds)  # capped backoff
    assert "1 unreachable (PACS down)" in caplog.text  # WARNING with the reason
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR and "unreachable" in r.msg]
    assert len(alerts) == 3  # from the max_attempts-th attempt on
    assert [a.outcome for a in history(runtime, uid)] == ["unreachable"] * (POLICY.max_attempts + 2)


def test_a_send_cut_short_counts_and_a_photo_that_keeps_killing_the_forwarder_is_parked(
    runtime: Runtime, photos: Photos
) -> None:
    [uid] = photos(1)
    for crash in range(POLICY.max_attempts):
        assert claim(runtime, f"crashed-{crash}", at=(LEASE + timedelta(seconds=1)) * crash) == [
            uid
        ]
        assert deliveries(runtime)[uid].attempts == crash + 1  # counted when claimed
    later = (LEASE + timedelta(seconds=1)) * POLICY.max_attempts
    assert claim(runtime, "next", at=later) == []  # parked instead of sent again
    parked = deliveries(runtime)[uid]
    assert parked.state == "parked"
    assert "stopped before it recorded a result" in (parked.last_error or "")
    attempts = history(runtime, uid)
    assert [a.outcome for a in attempts] == ["interrupted"] * POLICY.max_attempts
    assert [a.forwarder for a in attempts] == [f"crashed-{n}" for n in range(POLICY.max_attempts)]


def test_one_refused_photo_does_not_hold_back_its_batch(runtime: Runtime, photos: Photos) -> None:
    uids = photos(4)
    bad = uids[1]
    archive = ScriptedArchive()
    archive.poison = {bad}
    assert forwarder_for(runtime, archive).run_once() == 4
    assert archive.calls == [uids, *([uid] for uid in uids)]  # the batch, then one by one
    after = deliveries(runtime)
    assert {uid: after[uid].state for uid in uids} == {
        **dict.fromkeys(uids, "delivered"),
        bad: "pending",
    }
    assert after[bad].last_error == "HTTP 400: the PACS refused the request"
    [attempt] = history(runtime, bad)
    assert (attempt.outcome, attempt.cause) == ("refused", "request_refused")


def test_a_duplicate_refusal_counts_as_delivered_only_when_the_pacs_holds_it(
    runtime: Runtime, photos: Photos
) -> None:
    held, unknown = photos(2)
    archive = ScriptedArchive()
    duplicate = InstanceResult(
        Outcome.FAILED,
        "HTTP 409, the PACS refused it: 0111 (duplicate SOP instance)",
        Cause.DUPLICATE,
    )
    archive.outcomes = {held: duplicate, unknown: duplicate}
    archive.kept[held] = b"stored by an attempt whose answer was lost"
    assert forwarder_for(runtime, archive).run_once() == 2
    after = deliveries(runtime)
    assert after[held].state == "delivered"
    assert "found by QIDO-RS" in (after[held].last_error or "")
    assert after[unknown].state == "pending"
    assert "a search does not find it there" in (after[unknown].last_error or "")
    assert [(a.outcome, a.cause) for a in history(runtime, held)] == [("delivered", "already_held")]


class SlowArchive(ScriptedArchive):
    """Takes ``seconds`` to answer each store, as a PACS under load does."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.sending = threading.Event()

    def store(self, instances: Sequence[OutgoingInstance]) -> StoreReport:
        self.sending.set()
        time.sleep(self.seconds)
        return super().store(instances)


def test_a_slow_send_keeps_its_lease_and_is_sent_once(runtime: Runtime, photos: Photos) -> None:
    uids = photos(2)
    archive = SlowArchive(seconds=2.0)
    settings = ForwarderSettings(
        batch_size=10, lease=timedelta(seconds=0.6), poll_seconds=0.05, retry=POLICY
    )
    slow = Forwarder(runtime.db, runtime.files, archive, settings, owner="slow")
    sending = threading.Thread(target=slow.run_once)
    sending.start()
    assert archive.sending.wait(10)
    time.sleep(1.2)  # twice the lease: without renewal the batch would be free to take
    assert claim(runtime, "other") == []
    sending.join(10)
    assert archive.calls == [uids]
    assert {deliveries(runtime)[uid].state for uid in uids} == {"delivered"}


def test_a_restarted_forwarder_takes_its_dead_predecessors_batch_over_at_once(
    runtime: Runtime, photos: Photos
) -> None:
    dead_uid, alive_uid, remote_uid = photos(3)
    host = socket.gethostname()
    finished = subprocess.run(["true"], check=True)  # a process that ran and is gone
    del finished
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        owners = {
            dead_uid: f"{host}:{gone.pid}:dead",
            alive_uid: f"{host}:{alive.pid}:busy",
            remote_uid: f"another-host:{gone.pid}:far",
        }
        for owner in owners.values():
            with runtime.db.write() as session:
                outbox.claim(
                    session, owner=owner, now=utcnow(), limit=1, lease=LEASE, policy=POLICY
                )
        by_owner = {d.lease_owner: uid for uid, d in deliveries(runtime).items()}
        assert by_owner == {owner: uid for uid, owner in owners.items()}

        restarted = forwarder_for(runtime, ScriptedArchive(), owner=f"{host}:{os.getpid()}:new")
        assert restarted.end_dead_leases() == 1
        assert restarted.run_once() == 1  # long before the 60 s lease would have run out
        after = deliveries(runtime)
        assert after[dead_uid].state == "delivered"
        assert after[alive_uid].state == after[remote_uid].state == "pending"
        assert [a.outcome for a in history(runtime, dead_uid)] == ["interrupted", "delivered"]
    finally:
        alive.kill()
        alive.wait()


def test_a_forwarder_without_its_database_waits_quietly(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    forwarder = forwarder_for(runtime, ScriptedArchive())
    forwarder.db = Database("postgresql+psycopg://pointcare:secret@127.0.0.1:9/pointcare")
    stop = threading.Event()
    running = threading.Thread(target=forwarder.run, args=(stop,))
    with caplog.at_level(logging.INFO, logger="pointcare.archive.forwarder"):
        running.start()
        time.sleep(1.0)  # some twenty polls
        stop.set()
        running.join(10)
    forwarder.db.dispose()
    waiting = [r for r in caplog.records if "forwarder waiting" in r.getMessage()]
    assert len(waiting) == 1  # once a minute, not once a poll
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
