"""Anchoring the trail outside the database: signed checkpoints.

A chain shows an event changed or removed in its middle, not its end cut off. A checkpoint
says "the trail had ``seq`` events, the last one's hash was ``hash``, keyed from event
``keyed_from``", signed with the audit key (HMAC-SHA256); each is appended to a file outside the
database (``POINTCARE_AUDIT_CHECKPOINT_FILE``) and sent to syslog (``POINTCARE_AUDIT_SYSLOG``),
where the database's administrators cannot rewrite it. ``pointcare audit verify`` checks the
trail against the latest: fewer events than it recorded is a cut-off trail, another hash at
its event a rewritten one.

``pointcare serve`` writes one at start, then every ``POINTCARE_AUDIT_CHECKPOINT_SECONDS`` while
the trail grows, and one at shutdown; ``pointcare audit checkpoint`` writes one on demand. A
checkpoint is written only after the events since the previous one verified.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from pointcare.audit.chain import ChainStatus
from pointcare.audit.checkpoints import Checkpoint
from pointcare.audit.reading import keyed_from, verify_chain
from pointcare.db.engine import Database
from pointcare.db.models import AuditRecord

log = logging.getLogger(__name__)

SYSLOG_OFF = "off"


def latest_checkpoint(path: Path, key: bytes) -> Checkpoint | None:
    """The last checkpoint in ``path`` (None when there is none yet); ``ValueError`` when the
    last line is not signed with the key: the file was tampered with."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return None
    if not lines:
        return None
    try:
        return Checkpoint.parse(lines[-1], key)
    except ValueError as exc:
        raise ValueError(f"the last line of {path} is {exc}") from None


def append_checkpoint(path: Path, checkpoint: Checkpoint, key: bytes, *, syslog: str) -> None:
    """Append the signed checkpoint to ``path`` (created 0600 in a 0700 folder, synced to the
    disk) and send it to syslog."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = checkpoint.signed_line(key) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    send_to_syslog(syslog, f"pointcare audit checkpoint {line.strip()}")


def send_to_syslog(target: str, message: str, *, level: int = logging.INFO) -> None:
    """One message to syslog (facility auth), or nothing when ``target`` is off or absent."""
    if target == SYSLOG_OFF or not target:
        return
    address: str | tuple[str, int]
    if target.startswith("/"):
        if not Path(target).exists():
            return
        address = target
    else:
        host, _, port = target.rpartition(":")
        address = (host, int(port))
    try:
        handler = logging.handlers.SysLogHandler(
            address=address,
            facility=logging.handlers.SysLogHandler.LOG_AUTH,
            socktype=socket.SOCK_DGRAM,
        )
    except OSError as exc:
        log.warning("audit: syslog %s unreachable: %s", target, exc)
        return
    try:
        record = logging.LogRecord("pointcare.audit", level, __file__, 0, message, None, None)
        handler.emit(record)
    finally:
        handler.close()


def checkpoint_now(db: Database, path: Path, key: bytes, *, syslog: str) -> ChainStatus:
    """Write a checkpoint of the trail as it is now, if it grew since the latest one and the
    events since then verify (from the latest checkpoint's event on: a checkpoint is only ever
    written over a chain that holds). The status of that verification."""
    previous = latest_checkpoint(path, key)
    with db.session() as session:
        status = verify_chain(session, previous, since_checkpoint=True)
        head = session.execute(
            select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
        ).first()
        first_keyed = keyed_from(session)
    if not status.ok or head is None or (previous is not None and head.seq == previous.seq):
        if not status.ok:
            assert status.problem is not None
            send_to_syslog(
                syslog,
                f"pointcare audit trail broken at event {status.problem.seq}: "
                f"{status.problem.problem}",
                level=logging.ERROR,
            )
        return status
    checkpoint = Checkpoint(head.seq, head.hash, first_keyed, datetime.now(UTC))
    append_checkpoint(path, checkpoint, key, syslog=syslog)
    return status


class CheckpointThread:
    """``pointcare serve``'s checkpointer: ``write`` (``checkpoint_now`` with its arguments)
    every ``seconds``, and once more when stopped."""

    def __init__(self, write: Callable[[], ChainStatus], seconds: float) -> None:
        self._write = write
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def start(self) -> None:
        self._write_logged()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._seconds + 30)
        self._write_logged()

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            self._write_logged()

    def _write_logged(self) -> None:
        try:
            status = self._write()
        except Exception:  # a full disk, a database away: say so, and try again next time
            log.exception("audit: no checkpoint written")
            return
        if status.problem is not None:
            log.error(
                "audit trail broken at event %d: %s; no checkpoint written",
                status.problem.seq,
                status.problem.problem,
            )
