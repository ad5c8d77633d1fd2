"""corrections (IHE IOCM): rejection notes, rejected and replacing instances, note deliveries

Revision ID: 0010_corrections
Revises: 0009_consent
Create Date: 2026-11-28 10:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_corrections"
down_revision: str | Sequence[str] | None = "0009_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejection_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("series_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.String(length=500), nullable=False),
        sa.Column("storage_path", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sop_instance_uid"),
    )
    op.create_index(
        "ix_rejection_notes_patient_id", "rejection_notes", ["patient_id"], unique=False
    )
    op.create_index(
        "ix_rejection_notes_study_instance_uid",
        "rejection_notes",
        ["study_instance_uid"],
        unique=False,
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("instances", sa.Column("rejected_at", sa.DateTime(timezone=True)))
    if sqlite:
        # SQLite takes REFERENCES inside ADD COLUMN, not a constraint added later (see 0003).
        op.execute(
            "ALTER TABLE instances ADD COLUMN rejection_note_id INTEGER "
            "REFERENCES rejection_notes (id)"
        )
        op.execute("ALTER TABLE instances ADD COLUMN replaces_id INTEGER REFERENCES instances (id)")
    else:
        op.add_column("instances", sa.Column("rejection_note_id", sa.Integer()))
        op.add_column("instances", sa.Column("replaces_id", sa.Integer()))
        op.create_foreign_key(
            "fk_instances_rejection_note_id_rejection_notes",
            "instances",
            "rejection_notes",
            ["rejection_note_id"],
            ["id"],
        )
        op.create_foreign_key(
            "fk_instances_replaces_id_instances", "instances", "instances", ["replaces_id"], ["id"]
        )
    op.create_index(
        "ix_instances_rejection_note_id", "instances", ["rejection_note_id"], unique=False
    )
    op.create_index("ix_instances_replaces_id", "instances", ["replaces_id"], unique=False)
    # Nothing references `deliveries`, so SQLite may rebuild it (batch) to relax the NOT NULL.
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("instance_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("rejection_note_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_rejection_note_id_rejection_notes",
            "rejection_notes",
            ["rejection_note_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_deliveries_rejection_note_id", ["rejection_note_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_rejection_note_id", type_="unique")
        batch.drop_constraint("fk_deliveries_rejection_note_id_rejection_notes", type_="foreignkey")
        batch.drop_column("rejection_note_id")
        batch.alter_column("instance_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_instances_replaces_id", table_name="instances")
    op.drop_index("ix_instances_rejection_note_id", table_name="instances")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_instances_replaces_id_instances", "instances", type_="foreignkey")
        op.drop_constraint(
            "fk_instances_rejection_note_id_rejection_notes", "instances", type_="foreignkey"
        )
    # Batch: on SQLite, a later migration may have rebuilt the table with these columns'
    # foreign keys in its definition, which ALTER TABLE DROP COLUMN refuses to touch.
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("replaces_id")
        batch.drop_column("rejection_note_id")
        batch.drop_column("rejected_at")
    op.drop_index("ix_rejection_notes_study_instance_uid", table_name="rejection_notes")
    op.drop_index("ix_rejection_notes_patient_id", table_name="rejection_notes")
    op.drop_table("rejection_notes")
