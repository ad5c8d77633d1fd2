"""bedside capture sessions: the confirmed patient and the consent recorded at the bedside

Revision ID: 0005_bedside
Revises: 0004_merge
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_bedside"
down_revision: str | Sequence[str] | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bedside_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("encounter", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_clinical", sa.Boolean(), nullable=True),
        sa.Column("consent_teaching", sa.Boolean(), nullable=True),
        sa.Column("consent_publication", sa.Boolean(), nullable=True),
        sa.Column("consent_method", sa.String(length=16), nullable=True),
        sa.Column("consent_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("consent_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["consent_recorded_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_bedside_sessions_user_started", "bedside_sessions", ["user_id", "started_at"]
    )
    op.create_index("ix_bedside_sessions_patient_id", "bedside_sessions", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_bedside_sessions_patient_id", table_name="bedside_sessions")
    op.drop_index("ix_bedside_sessions_user_started", table_name="bedside_sessions")
    op.drop_table("bedside_sessions")
