"""patient merge (HL7 ADT A40): patients.merged_into_id, patients.merged_at

Revision ID: 0003_patient_merge
Revises: 0001
Create Date: 2026-11-28 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_patient_merge"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but takes REFERENCES inside ADD COLUMN. A
        # batch rebuild of `patients` instead would fail: other tables reference it and the
        # connection enforces foreign keys.
        op.execute(
            "ALTER TABLE patients ADD COLUMN merged_into_id INTEGER REFERENCES patients (id)"
        )
    else:
        op.add_column("patients", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_patients_merged_into_id_patients",
            "patients",
            "patients",
            ["merged_into_id"],
            ["id"],
        )
    op.add_column("patients", sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_patients_merged_into_id", "patients", ["merged_into_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_patients_merged_into_id", table_name="patients")
    op.drop_column("patients", "merged_at")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_patients_merged_into_id_patients", "patients", type_="foreignkey")
    # SQLite (3.35+) drops a column together with its own REFERENCES clause.
    op.drop_column("patients", "merged_into_id")
