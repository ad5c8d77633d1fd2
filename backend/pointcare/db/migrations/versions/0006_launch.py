"""EHR launch: used token ids (jti), remembered until they expire; launch-bound sessions

Revision ID: 0006_launch
Revises: 0005_bedside
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_launch"
down_revision: str | Sequence[str] | None = "0005_bedside"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "launch_tokens_used",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "jti", name="uq_launch_tokens_used_issuer_jti"),
    )
    op.create_index("ix_launch_tokens_used_expires_at", "launch_tokens_used", ["expires_at"])

    op.add_column("users", sa.Column("external_issuer", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("external_subject", sa.String(length=255), nullable=True))
    # A unique index, not a constraint: SQLite cannot add a constraint to an existing table.
    # Local users have NULLs there, which never collide.
    op.create_index(
        "ux_users_external_identity",
        "users",
        ["external_issuer", "external_subject"],
        unique=True,
    )

    if op.get_bind().dialect.name == "sqlite":
        # As in 0003: SQLite takes REFERENCES inside ADD COLUMN, not a constraint afterwards.
        op.execute(
            "ALTER TABLE user_sessions "
            "ADD COLUMN launch_patient_id INTEGER REFERENCES patients (id)"
        )
    else:
        op.add_column("user_sessions", sa.Column("launch_patient_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_user_sessions_launch_patient_id_patients",
            "user_sessions",
            "patients",
            ["launch_patient_id"],
            ["id"],
        )
    op.add_column(
        "user_sessions", sa.Column("launch_encounter", sa.String(length=64), nullable=True)
    )

    op.create_table(
        "launch_session_patients",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["user_sessions.id"],
            name="fk_launch_session_patients_session_id_user_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_launch_session_patients_patient_id_patients",
        ),
        sa.PrimaryKeyConstraint("session_id", "patient_id"),
    )


def downgrade() -> None:
    op.drop_table("launch_session_patients")
    op.drop_column("user_sessions", "launch_encounter")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            "fk_user_sessions_launch_patient_id_patients", "user_sessions", type_="foreignkey"
        )
    op.drop_column("user_sessions", "launch_patient_id")
    op.drop_index("ux_users_external_identity", table_name="users")
    op.drop_column("users", "external_subject")
    op.drop_column("users", "external_issuer")
    op.drop_index("ix_launch_tokens_used_expires_at", table_name="launch_tokens_used")
    op.drop_table("launch_tokens_used")
