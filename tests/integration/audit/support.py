"""Reading what the trail holds, for assertions."""

from __future__ import annotations

from sqlalchemy import select

from pointcare import audit
from pointcare.db.models import AuditRecord
from pointcare.runtime import Runtime


def events(runtime: Runtime, action: audit.AuditAction | None = None) -> list[AuditRecord]:
    """Events in order, all or those of one action."""
    query = select(AuditRecord).order_by(AuditRecord.seq)
    if action is not None:
        query = query.where(AuditRecord.action == action.value)
    with runtime.db.session() as session:
        return list(session.scalars(query).all())


def chain_holds(runtime: Runtime) -> bool:
    with runtime.db.session() as session:
        return audit.verify_chain(session).ok
