"""Changing ``POINTCARE_ARCHIVE`` on an installation that already holds photos.

builtin → dicomweb: what was stored before lives in the built-in archive only;
``pointcare archive backfill`` queues it for the PACS (each object once, whatever was queued
already is left alone).

dicomweb → builtin: the spool copy of every object the PACS confirmed was removed here, and
the built-in archive cannot serve it. Pointcare then reads those objects from the PACS, as
long as ``POINTCARE_DICOMWEB_URL`` (and its credentials) still point to it; without it, it
refuses to start and says why, rather than list photos it would answer 404 for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from pointcare.archive import outbox
from pointcare.db.models import Delivery, Instance
from pointcare.errors import PointcareError


class ArchiveSwitchRefused(PointcareError):
    status_code = 500
    title = "Archive setting refused"


def delivered_elsewhere(session: Session) -> int:
    """Objects whose only copy is now in the PACS (delivered, spool copy removed)."""
    return (
        session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.spool_removed_at.is_not(None))
        )
        or 0
    )


def check_builtin_can_serve(session: Session, *, pacs_configured: bool) -> int:
    """With the built-in archive: how many objects must be read from the PACS; refuses when
    there are some and no PACS to read them from."""
    count = delivered_elsewhere(session)
    if count and not pacs_configured:
        raise ArchiveSwitchRefused(
            f"POINTCARE_ARCHIVE is 'builtin', but {count} photo(s) and document(s) were "
            "delivered to the PACS and their files removed from this server: the built-in "
            "archive cannot show them. Set POINTCARE_DICOMWEB_URL (with its credentials) to "
            "keep reading them from the PACS, or set POINTCARE_ARCHIVE=dicomweb again."
        )
    return count


def backfill(session: Session, now: datetime) -> int:
    """Queue for the PACS every stored object (of every kind) that has no delivery yet; how
    many."""
    missing = session.scalars(
        select(Instance.id)
        .where(~exists().where(Delivery.instance_id == Instance.id))
        .order_by(Instance.id)
    ).all()
    for instance_id in missing:
        outbox.enqueue(session, instance_id, now)
    return len(missing)
