"""The hash chain, without a database: canonical bytes, and what a walk finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pointcare import audit
from pointcare.audit.chain import GENESIS_HASH, canonical_bytes, event_hash, walk


def row(seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "seq": seq,
        "recorded_at": datetime(2026, 5, 4, 8, 15, 0, 123456, tzinfo=UTC),
        "user_id": 2,
        "username": "doctor",
        "role": "clinician",
        "client_address": "10.1.2.3",
        "user_agent": "Mozilla/5.0",
        "action": "image.viewed",
        "patient_id": 1,
        "patient_mrn": "PC100001",
        "patient_issuer": "PCDEMO",
        "objects": ["1.2.3.4"],
        "outcome": "success",
        "reason": None,
        "details": {"via": "photo page"},
        "prev_hash": prev_hash,
    }
    values.update(changes)
    values["hash"] = event_hash(values)
    return values


def chain(length: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for seq in range(1, length + 1):
        rows.append(row(seq, previous, objects=[f"1.2.3.{seq}"]))
        previous = rows[-1]["hash"]
    return rows


def test_canonical_bytes_are_sorted_compact_utf8_with_utc_times() -> None:
    stockholm = timezone(timedelta(hours=2))
    moment = datetime(2026, 5, 4, 10, 15, 0, 123456, tzinfo=stockholm)
    data = canonical_bytes(row(1, GENESIS_HASH, recorded_at=moment, username="Åsa"))
    text = data.decode("utf-8")
    assert '"recorded_at":"2026-05-04T08:15:00.123456Z"' in text
    assert '"username":"Åsa"' in text
    assert " " not in text.replace("Mozilla/5.0", "").replace("photo page", "")
    keys = [part.split(":")[0] for part in text[1:-1].split(',"')]
    assert keys == sorted(keys)


def test_the_hash_does_not_depend_on_key_order_or_time_zone() -> None:
    utc = row(1, GENESIS_HASH, details={"b": 1, "a": "x"})
    other = dict(reversed(list(utc.items())))
    other["recorded_at"] = utc["recorded_at"].astimezone(timezone(timedelta(hours=-5)))
    other["details"] = {"a": "x", "b": 1}
    assert event_hash(other) == utc["hash"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("outcome", "failure"), ("patient_mrn", "PC100002"), ("objects", ["9.9"]), ("user_id", 3)],
)
def test_any_field_changes_the_hash(name: str, value: Any) -> None:
    original = row(1, GENESIS_HASH)
    assert event_hash({**original, name: value}) != original["hash"]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        canonical_bytes(row(1, GENESIS_HASH) | {"recorded_at": datetime(2026, 5, 4)})


def test_an_intact_chain_verifies() -> None:
    status = walk(chain(5))
    assert (status.ok, status.verified, status.last_seq) == (True, 5, 5)


def test_an_altered_row_is_found() -> None:
    rows = chain(5)
    rows[2] = {**rows[2], "outcome": "refused"}
    status = walk(rows)
    assert status.problem is not None
    assert (status.problem.seq, status.verified) == (3, 2)
    assert "altered" in status.problem.problem


def test_an_altered_row_rehashed_breaks_the_next_link() -> None:
    rows = chain(5)
    forged = {**rows[2], "patient_mrn": "PC999999"}
    forged["hash"] = event_hash(forged)
    rows[2] = forged
    status = walk(rows)
    assert status.problem is not None and status.problem.seq == 4
    assert "previous-hash" in status.problem.problem


def test_a_removed_row_is_a_gap() -> None:
    rows = chain(5)
    del rows[1]
    status = walk(rows)
    assert status.problem is not None
    assert status.problem.seq == 2 and "missing" in status.problem.problem


def test_reordered_rows_are_found() -> None:
    rows = chain(4)
    rows[1], rows[2] = rows[2], rows[1]
    status = walk(rows)
    assert status.problem is not None and status.problem.seq == 2


def test_renumbered_rows_after_a_removal_break_the_link() -> None:
    rows = chain(4)
    del rows[1]
    rows[1] = {**rows[1], "seq": 2}
    rows[2] = {**rows[2], "seq": 3}
    status = walk(rows)
    assert status.problem is not None and status.problem.seq == 2


def test_events_refuse_names_in_details_shapes_they_cannot_hash() -> None:
    actor = audit.Actor.system("test")
    with pytest.raises(ValueError, match="string, integer"):
        audit.AuditEvent(action=audit.AuditAction.LOGIN, actor=actor, details={"x": 1.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="string, integer"):
        audit.AuditEvent(
            action=audit.AuditAction.LOGIN,
            actor=actor,
            details={"x": ["a"]},  # type: ignore[dict-item]
        )
    with pytest.raises(ValueError, match="not a valid AuditAction"):
        audit.AuditEvent(action="no.such.action", actor=actor)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="MRN"):
        audit.PatientRef(mrn=" ")
