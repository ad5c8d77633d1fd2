"""patients and studies: indexes for searching a hospital's archive (name prefixes, study lists)

Revision ID: 0020_search_indexes
Revises: 0019_photo_aspect
Create Date: 2026-12-07 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020_search_indexes"
down_revision: str | Sequence[str] | None = "0019_photo_aspect"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PatientName=abc* is a LIKE 'abc%' on the folded name key: PostgreSQL uses an index for it
    # only with the pattern operator class (SQLite ignores the option).
    op.create_index(
        "ix_patients_name_key_pattern",
        "patients",
        ["name_key"],
        postgresql_ops={"name_key": "varchar_pattern_ops"},
    )
    op.create_index("ix_studies_study_datetime", "studies", ["study_datetime", "id"])
    op.create_index(
        "ix_studies_patient_study_datetime", "studies", ["patient_id", "study_datetime"]
    )


def downgrade() -> None:
    op.drop_index("ix_studies_patient_study_datetime", table_name="studies")
    op.drop_index("ix_studies_study_datetime", table_name="studies")
    op.drop_index("ix_patients_name_key_pattern", table_name="patients")
