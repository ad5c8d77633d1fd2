"""The hash chain, without a database: canonical bytes, keyed hashes, what a walk finds, and
signed checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pointcare import audit
from pointcare.audit.chain import GENESIS_HASH, canonical_bytes, event_hash, event_mac, walk
from pointcare.audit.checkpoints import Checkpoint

KEY = b"k" * 16 + b"e" * 16
LEGACY = 10**9
"""``keyed_from`` beyond every test row: the whole chain is of the plain, pre-key kind."""


def row(seq: int, prev_hash: str, *, keyed: bool = True, **changes: Any) -> dict[str, Any]:
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
    values["hash"] = event_mac(KEY, values) if keyed else event_hash(values)
    return values


def chain(length: int, keyed_from: int = 1) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for seq in range(1, length + 1):
        rows.append(row(seq, previous, keyed=seq >= keyed_from, objects=[f"1.2.3.{seq}"]))
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
    assert event_mac(KEY, other) == utc["hash"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("outcome", "failure"), ("patient_mrn", "PC100002"), ("objects", ["9.9"]), ("user_id", 3)],
)
def test_any_field_changes_the_hash(name: str, value: Any) -> None:
    original = row(1, GENESIS_HASH)
    assert event_mac(KEY, {**original, name: value}) != original["hash"]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        canonical_bytes(row(1, GENESIS_HASH) | {"recorded_at": datetime(2026, 5, 4)})


def test_an_intact_chain_verifies() -> None:
    status = walk(chain(5), KEY)
    assert (status.ok, status.verified, status.last_seq) == (True, 5, 5)


def test_an_altered_row_is_found() -> None:
    rows = chain(5)
    rows[2] = {**rows[2], "outcome": "refused"}
    status = walk(rows, KEY)
    assert status.problem is not None
    assert (status.problem.seq, status.verified) == (3, 2)
    assert "altered" in status.problem.problem


@pytest.mark.parametrize(
    "rehash",
    [event_hash, lambda values: event_mac(b"another-key-of-thirty-two-bytes!", values)],
    ids=["plain-sha256", "another-key"],
)
def test_an_altered_row_rehashed_without_the_key_is_found(rehash: Any) -> None:
    rows = chain(5)
    forged = {**rows[2], "patient_mrn": "PC999999"}
    forged["hash"] = rehash(forged)
    rows[2] = forged
    status = walk(rows, KEY)
    assert status.problem is not None and status.problem.seq == 3
    assert "altered" in status.problem.problem


def test_an_altered_row_rehashed_with_the_key_breaks_the_next_link() -> None:
    rows = chain(5)
    forged = {**rows[2], "patient_mrn": "PC999999"}
    forged["hash"] = event_mac(KEY, forged)
    rows[2] = forged
    status = walk(rows, KEY)
    assert status.problem is not None and status.problem.seq == 4
    assert "previous-hash" in status.problem.problem


def test_a_chain_keyed_after_an_upgrade_verifies_its_plain_start() -> None:
    rows = chain(6, keyed_from=4)
    assert walk(rows, KEY, keyed_from=4).ok
    assert walk(chain(3, keyed_from=LEGACY), KEY, keyed_from=LEGACY).ok
    assert not walk(rows, KEY, keyed_from=1).ok  # the plain events are not keyed ones
    assert not walk(rows, KEY, keyed_from=LEGACY).ok  # nor the keyed ones plain
    # Plain hashes past the point the chain was keyed do not pass: a rewrite cannot use them.
    rewritten = chain(6, keyed_from=LEGACY)
    assert walk(rewritten, KEY, keyed_from=4).problem.seq == 4  # type: ignore[union-attr]


def test_a_checkpoint_reads_back_only_under_its_key() -> None:
    moment = datetime(2026, 5, 4, 8, 15, tzinfo=UTC)
    checkpoint = Checkpoint(seq=41, hash="ab" * 32, keyed_from=7, written_at=moment)
    line = checkpoint.signed_line(KEY)
    assert Checkpoint.parse(line, KEY) == checkpoint
    with pytest.raises(ValueError, match="audit key"):
        Checkpoint.parse(line, b"another-key-of-thirty-two-bytes!")
    with pytest.raises(ValueError, match="audit key"):
        Checkpoint.parse(line.replace('"seq":41', '"seq":40'), KEY)
    with pytest.raises(ValueError, match="not a checkpoint"):
        Checkpoint.parse("garbage", KEY)


def test_a_removed_row_is_a_gap() -> None:
    rows = chain(5)
    del rows[1]
    status = walk(rows, KEY)
    assert status.problem is not None
    assert status.problem.seq == 2 and "missing" in status.problem.problem


def test_reordered_rows_are_found() -> None:
    rows = chain(4)
    rows[1], rows[2] = rows[2], rows[1]
    status = walk(rows, KEY)
    assert status.problem is not None and status.problem.seq == 2


def test_renumbered_rows_after_a_removal_break_the_link() -> None:
    rows = chain(4)
    del rows[1]
    rows[1] = {**rows[1], "seq": 2}
    rows[2] = {**rows[2], "seq": 3}
    status = walk(rows, KEY)
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
