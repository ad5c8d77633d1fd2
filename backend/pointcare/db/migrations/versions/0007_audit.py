"""audit trail: append-only events in a hash chain

Revision ID: 0007_audit
Revises: 0006_launch
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_audit"
down_revision: str | Sequence[str] | None = "0006_launch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
