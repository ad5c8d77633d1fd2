"""EHR launch: used token ids (jti), remembered until they expire

Revision ID: 0006_launch
Revises: 0005_bedside
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_launch"
down_revision: str | Sequence[str] | None = "0005_bedside"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
