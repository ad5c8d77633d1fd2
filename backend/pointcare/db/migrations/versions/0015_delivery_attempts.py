"""delivery attempts: each attempt's history, and attempts that count toward parking

Revision ID: 0015_delivery_attempts
Revises: 0014_tokens_and_session_lock
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_delivery_attempts"
down_revision: str | Sequence[str] | None = "0014_tokens_and_session_lock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("charged_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE deliveries SET charged_attempts = attempts")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("charged_attempts", server_default=None)
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("forwarder", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_delivery_attempts_delivery_number", "delivery_attempts", ["delivery_id", "number"]
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_delivery_number", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("charged_attempts")
