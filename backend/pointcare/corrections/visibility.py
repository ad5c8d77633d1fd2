"""Which index rows the clinic sees: every photo that no rejection note has rejected."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from pointcare.db.models import Instance


def not_rejected() -> ColumnElement[bool]:
    """The WHERE clause for photos still in force (pages, QIDO-RS, exports)."""
    return Instance.rejected_at.is_(None)
