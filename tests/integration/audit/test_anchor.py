"""A trail nobody can rewrite: the chain is keyed with a key that is not in the database, and
signed checkpoints outside the database show an end cut off. Each attack is made as someone
with the database owner's rights would make it (the append-only triggers out of the way), then
``pointcare audit verify`` runs as a real process.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash, event_mac
from pointcare.audit.checkpoints import Checkpoint
from pointcare.db.engine import Database
from pointcare.db.models import AuditRecord
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.audit.test_cli import tamper
from tests.integration.db.test_migrations import migrate
from tests.integration.test_cli import Pointcare, pointcare
from tests.support.csrf import arm
from tests.support.server import LiveServer, live_env

__all__ = ["pointcare"]

DOCTOR = audit.Actor(user_id=2, username="doctor", role="clinician", client_address="10.0.0.9")
GLASS = audit.AuditAction.BREAK_GLASS


def seed(runtime: Runtime) -> None:
    """Twelve events; five of them break the glass (what someone would want gone)."""
    for n in range(12):
        audit.record_now(
            runtime.db,
            audit.AuditEvent(
                action=GLASS if n % 2 == 1 and n < 10 else audit.AuditAction.IMAGE_VIEWED,
                actor=DOCTOR,
                patient=audit.PatientRef(mrn="PC100001", issuer="PCDEMO", patient_id=1),
                objects=(f"1.2.826.0.1.3680043.10.1.{n}",),
                reason="wound review" if n % 2 == 1 and n < 10 else None,
            ),
        )


def rows_of(session: Session) -> list[dict[str, Any]]:
    columns = [getattr(AuditRecord, name) for name in (*HASHED_FIELDS, "hash")]
    query = select(*columns).order_by(AuditRecord.seq)
    return [dict(row) for row in session.execute(query).mappings()]


def rewrite(runtime: Runtime, backend: str, keep: Any, rehash: Any) -> None:
    """Remove the events ``keep`` refuses and chain the rest again, numbered 1, 2, 3... and
    hashed with ``rehash``: the whole trail made to look as if they never happened."""
    with runtime.db.session() as session:
        kept = [row for row in rows_of(session) if keep(row)]
    tamper(runtime, backend, "DELETE FROM audit_events")
    previous = GENESIS_HASH
    with runtime.db.write() as session:  # inserts: the triggers never refused those
        for seq, row in enumerate(kept, start=1):
            row = {**row, "seq": seq, "prev_hash": previous}
            row["hash"] = rehash(row)
            session.add(AuditRecord(**row))
            previous = row["hash"]


def not_glass(row: dict[str, Any]) -> bool:
    return bool(row["action"] != GLASS.value)


@pytest.mark.parametrize(
    ("rehash", "caught"),
    [
        (event_hash, "altered"),
        (lambda row: event_mac(b"a-key-the-attacker-made-up-32-bytes", row), "altered"),
        # Even someone who got hold of the key cannot match the checkpoint written before.
        (lambda row: event_mac(TEST_AUDIT_KEY, row), "the end was cut off"),
    ],
    ids=["the-code's-own-plain-hash", "a-made-up-key", "the-key-itself"],
)
def test_removing_break_glass_events_and_rehashing_is_caught(
    pointcare: Pointcare, runtime: Runtime, database_backend: str, rehash: Any, caught: str
) -> None:
    seed(runtime)
    assert pointcare("audit", "checkpoint").returncode == 0
    rewrite(runtime, database_backend, not_glass, rehash)
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert caught in result.stderr


def test_deleting_the_last_event_is_caught(
    pointcare: Pointcare, runtime: Runtime, database_backend: str
) -> None:
    seed(runtime)
    assert pointcare("audit", "checkpoint").returncode == 0
    assert "verified: 12 events" in pointcare("audit", "verify").stdout
    tamper(runtime, database_backend, "DELETE FROM audit_events WHERE seq = 12")
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "ends at event 11" in result.stderr and "cut off" in result.stderr


def test_a_trail_without_any_checkpoint_is_not_called_verified(
    pointcare: Pointcare, runtime: Runtime
) -> None:
    seed(runtime)
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "no checkpoint" in result.stderr


def test_a_forged_checkpoint_is_refused(
    pointcare: Pointcare, runtime: Runtime, tmp_path: Path
) -> None:
    seed(runtime)
    assert pointcare("audit", "checkpoint").returncode == 0
    path = tmp_path / "audit" / "checkpoints.jsonl"
    line = json.loads(path.read_text().splitlines()[-1])
    line["seq"] = 3  # "the trail had 3 events": a cut-off trail would then pass
    path.write_text(path.read_text() + json.dumps(line) + "\n")
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "tampered" in result.stderr and "audit key" in result.stderr


def test_moving_the_point_the_chain_was_keyed_from_is_caught(
    pointcare: Pointcare, runtime: Runtime, database_backend: str
) -> None:
    seed(runtime)
    assert pointcare("audit", "checkpoint").returncode == 0
    # Claiming the whole trail predates the key, so plain hashes would pass for it.
    update = "UPDATE audit_chain SET keyed_from_seq = 1000"
    tamper(runtime, database_backend, update, table="audit_chain")
    rewrite(runtime, database_backend, not_glass, event_hash)
    result = pointcare("audit", "verify")
    assert result.returncode == 1
    assert "keyed from event 1000" in result.stderr


def test_a_checkpoint_also_goes_to_syslog(
    pointcare: Pointcare, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(runtime)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as syslog:
        syslog.bind(("127.0.0.1", 0))
        syslog.settimeout(10)
        monkeypatch.setenv("POINTCARE_AUDIT_SYSLOG", f"127.0.0.1:{syslog.getsockname()[1]}")
        assert pointcare("audit", "checkpoint").returncode == 0
        message = syslog.recv(4096).decode()
    written = (tmp_path / "audit" / "checkpoints.jsonl").read_text().splitlines()[-1]
    assert message.startswith("<")  # a syslog priority: facility auth, level info
    assert f"pointcare audit checkpoint {written}" in message
    assert '"seq":12' in written


def test_a_trail_recorded_before_the_upgrade_keeps_verifying(
    empty_database_url: str, tmp_path: Path
) -> None:
    database = Database(empty_database_url, audit_key=TEST_AUDIT_KEY)
    try:
        migrate(database.engine, "upgrade", "0012_stored_objects")
        with database.write() as session:
            previous = GENESIS_HASH
            for seq in range(1, 4):  # what the code before the key wrote: plain SHA-256
                row = {
                    **{name: None for name in HASHED_FIELDS},
                    "seq": seq,
                    "recorded_at": datetime(2026, 5, 4, 8, 0, tzinfo=UTC),
                    "role": "clinician",
                    "action": "image.viewed",
                    "objects": [f"1.2.3.{seq}"],
                    "outcome": "success",
                    "details": {},
                    "prev_hash": previous,
                }
                row["hash"] = event_hash(row)
                session.add(AuditRecord(**row))
                previous = row["hash"]
        migrate(database.engine, "upgrade", "head")
        audit.record_now(database, audit.AuditEvent(action="login", actor=DOCTOR))
        with database.session() as session:
            status = audit.verify_chain(session)
            [fourth] = [row for row in rows_of(session) if row["seq"] == 4]
        assert (status.ok, status.verified) == (True, 4)
        assert fourth["hash"] == event_mac(TEST_AUDIT_KEY, fourth)  # keyed from event 4 on
    finally:
        database.dispose()


@pytest.mark.slow
def test_serve_writes_a_checkpoint_when_the_trail_grows() -> None:
    with LiveServer(env=live_env(POINTCARE_AUDIT_CHECKPOINT_SECONDS="1")) as server:
        path = server.data_dir / "audit" / "checkpoints.jsonl"
        with httpx.Client(base_url=server.url, trust_env=False) as browser:
            arm(browser)
            failed = browser.post("/login", data={"username": "x", "password": "wrong-one"})
        assert failed.status_code == 401  # one event: login.failed
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not path.exists():
            time.sleep(0.2)
        lines = path.read_text().splitlines()
        key = Settings.from_env(data_dir=server.data_dir).effective_audit_key
        assert Checkpoint.parse(lines[-1], key).seq == 1
        assert path.stat().st_mode & 0o777 == 0o600
