"""bedside capture sessions: the confirmed patient and the consent recorded at the bedside

Revision ID: 0005_bedside
Revises: 0004_merge
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_bedside"
down_revision: str | Sequence[str] | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
