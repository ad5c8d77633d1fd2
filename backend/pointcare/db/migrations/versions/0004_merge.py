"""merge the delivery outbox and patient merge branches

Revision ID: 0004_merge
Revises: 0002_delivery, 0003_patient_merge
Create Date: 2026-11-28 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004_merge"
down_revision: str | Sequence[str] | None = ("0002_delivery", "0003_patient_merge")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
