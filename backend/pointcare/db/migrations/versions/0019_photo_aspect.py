"""the face of the body site a photo shows (anterior, posterior...)

Revision ID: 0019_photo_aspect
Revises: 0018_password_change
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_photo_aspect"
down_revision: str | Sequence[str] | None = "0018_password_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("instances", sa.Column("aspect", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("instances", "aspect")
