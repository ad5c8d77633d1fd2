"""Leases on deliveries: renewed while a forwarder sends, ended at once when their holder is
known to be dead.

A forwarder names itself ``host:pid:random`` (``forwarder_id``). When it starts, the leases
still held by forwarders of the same host whose process is gone (or whose pid is its own: an
earlier life of a restarted container) are ended: a restarted worker takes its own batch over
at once instead of waiting out the lease. Leases of other hosts expire by themselves.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from pointcare.archive.outbox import DeliveryState
from pointcare.db.models import Delivery

HOST_CHARS = 60


def forwarder_id() -> str:
    """Names this forwarder in lease columns and logs: host, process, and a random part."""
    return f"{socket.gethostname()[:HOST_CHARS]}:{os.getpid()}:{secrets.token_hex(4)}"


def dead_here(owner: str, *, me: str) -> bool:
    """Whether ``owner`` is a forwarder of this host whose process is no longer running."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if owner == me or host != socket.gethostname()[:HOST_CHARS] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    return pid == os.getpid() or not _running(pid)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped by its parent yet, does not)."""
    if not Path("/proc/self").exists():  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def renew(session: Session, *, owner: str, delivery_ids: Collection[int], until: datetime) -> int:
    """Extend ``owner``'s lease on these deliveries (while it is still sending them); how many
    it still held."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(list(delivery_ids)),
            Delivery.lease_owner == owner,
            Delivery.state == DeliveryState.PENDING.value,
        )
        .values(lease_expires_at=until)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount


def live_lease_owners(session: Session, now: datetime) -> list[str]:
    """Forwarders holding an unexpired lease right now."""
    return list(
        session.scalars(
            select(Delivery.lease_owner)
            .where(
                Delivery.state == DeliveryState.PENDING.value,
                Delivery.lease_owner.is_not(None),
                Delivery.lease_expires_at > now,
            )
            .distinct()
        )
    )


def expire_leases(session: Session, owners: Collection[str], now: datetime) -> int:
    """End the leases of forwarders known to be dead: their deliveries are due at once."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.lease_owner.in_(list(owners)),
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.lease_expires_at > now,
        )
        .values(lease_expires_at=now)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
