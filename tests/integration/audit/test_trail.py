"""The trail on each database: appends chain up, rollbacks leave no trace, concurrent appends
stay a line, and the database itself refuses to change or remove an event."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from pointcare import audit
from pointcare.audit.chain import GENESIS_HASH
from pointcare.db.models import AuditRecord
from pointcare.runtime import Runtime

NURSE = audit.Actor(user_id=7, username="nurse", role="photographer", client_address="10.0.0.5")


def event(n: int = 0, **changes: object) -> audit.AuditEvent:
    fields: dict[str, object] = {
        "action": audit.AuditAction.PATIENT_OPEN,
        "actor": NURSE,
        "patient": audit.PatientRef(mrn="PC100001", issuer="PCDEMO", patient_id=1),
        "objects": (f"1.2.826.0.1.3680043.10.1.{n}",),
        "details": {"page": "review", "n": n},
    }
    fields.update(changes)
    return audit.AuditEvent(**fields)  # type: ignore[arg-type]


def test_events_are_appended_in_a_chain(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        first = audit.record(session, event(1))
        second = audit.record(session, event(2, outcome=audit.Outcome.REFUSED, reason="role"))
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    with runtime.db.session() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        status = audit.verify_chain(session)
    assert [(r.action, r.outcome, r.reason) for r in rows] == [
        ("patient.open", "success", None),
        ("patient.open", "refused", "role"),
    ]
    assert rows[1].details == {"page": "review", "n": 2}
    assert rows[1].objects == ["1.2.826.0.1.3680043.10.1.2"]
    assert rows[0].recorded_at.tzinfo is not None
    assert (status.ok, status.verified, status.last_seq) == (True, 2, 2)


def test_an_event_rolls_back_with_its_action(runtime: Runtime) -> None:
    audit.record_now(runtime.db, event(1))

    def failing_action() -> None:
        with runtime.db.write() as session:
            audit.record(session, event(2))
            raise RuntimeError("the action failed after its event was written")

    with pytest.raises(RuntimeError):
        failing_action()
    audit.record_now(runtime.db, event(3))
    with runtime.db.session() as session:
        seqs = session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)).all()
        status = audit.verify_chain(session)
    assert seqs == [1, 2]  # no gap: the rolled-back event never took its number
    assert status.ok and status.verified == 2


def test_concurrent_appends_keep_one_valid_chain(runtime: Runtime) -> None:
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit.record_now(runtime.db, event(worker * 100 + n))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with runtime.db.session() as session:
        status = audit.verify_chain(session)
        count = session.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()).limit(1))
    assert status.ok, status.problem
    assert status.verified == count == threads * per_thread


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(runtime: Runtime, statement: str) -> None:
    audit.record_now(runtime.db, event(1))
    with pytest.raises(DBAPIError, match="append-only"), runtime.db.write() as session:
        session.execute(text(statement))
    with runtime.db.session() as session:
        row = session.scalars(select(AuditRecord)).one()
    assert row.outcome == "success"


def test_postgresql_refuses_truncate(runtime: Runtime, database_backend: str) -> None:
    if database_backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    audit.record_now(runtime.db, event(1))
    with pytest.raises(DBAPIError, match="append-only"), runtime.db.write() as session:
        session.execute(text("TRUNCATE audit_events"))


def test_a_list_covers_its_thumbnails_for_a_while_remembered_or_read_again(
    runtime: Runtime,
) -> None:
    shown = ["1.2.826.0.1.3680043.10.1.1", "1.2.826.0.1.3680043.10.1.2"]
    audit.record_now(runtime.db, event(action=audit.AuditAction.IMAGE_LIST_VIEWED, objects=shown))

    def covered(uid: str, **within: timedelta) -> bool:
        with runtime.db.session() as session:
            return audit.shown_in_a_list(session, NURSE.user_id or 0, 1, [uid], **within)

    assert covered(shown[1])  # read from the trail
    assert covered(shown[0])  # remembered
    assert not covered("1.2.826.0.1.3680043.10.1.3")  # not in the list
    assert not covered(shown[0], within=timedelta(0))  # remembered, but too old now
    with runtime.db.session() as session:  # another patient's list does not cover it
        assert not audit.shown_in_a_list(session, NURSE.user_id or 0, 2, [shown[0]])
    audit.record_now(
        runtime.db, event(action=audit.AuditAction.IMAGE_LIST_VIEWED, objects=["1.2.3.4"])
    )
    assert covered("1.2.3.4")  # a newer list is read from the trail
