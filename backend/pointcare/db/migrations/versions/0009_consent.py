"""consent over time: teaching and publication consent given or withdrawn later

Revision ID: 0009_consent
Revises: 0008_security
Create Date: 2026-11-28 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_consent"
down_revision: str | Sequence[str] | None = "0008_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consent_changes_instance_id", "consent_changes", ["instance_id"], unique=False
    )
    op.create_index(
        "ix_consent_changes_patient_recorded",
        "consent_changes",
        ["patient_id", "recorded_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consent_changes_patient_recorded", table_name="consent_changes")
    op.drop_index("ix_consent_changes_instance_id", table_name="consent_changes")
    op.drop_table("consent_changes")
