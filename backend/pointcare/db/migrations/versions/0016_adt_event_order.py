"""patients: when the last ADT message applied happened, so that older ones are not applied

Revision ID: 0016_adt_event_order
Revises: 0015_delivery_attempts
Create Date: 2026-12-06 12:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_adt_event_order"
down_revision: str | Sequence[str] | None = "0015_delivery_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not a batch rebuild: on SQLite a rebuilt `patients` loses the REFERENCES
# clause that migration 0003 added inside ADD COLUMN (see there).


def upgrade() -> None:
    op.add_column("patients", sa.Column("adt_event_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("patients", "adt_event_at")
