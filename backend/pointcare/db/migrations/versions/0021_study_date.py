"""studies.study_date: each study's own calendar date, held for searching and sorting by it

Revision ID: 0021_study_date
Revises: 0020_search_indexes
Create Date: 2026-12-07 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_study_date"
down_revision: str | Sequence[str] | None = "0020_search_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATED = {
    # The UTC moment shifted by the study's own offset, then cut to its date.
    "postgresql": "UPDATE studies SET study_date = CAST((study_datetime AT TIME ZONE 'UTC') "
    "+ make_interval(mins => study_tz_offset_minutes) AS DATE)",
    # SQLite keeps the moment as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text, in UTC. The fraction is
    # cut off first: date() rounds it to milliseconds, and 23:59:59.9999 to the next day.
    "sqlite": "UPDATE studies SET study_date = "
    "date(substr(study_datetime, 1, 19), study_tz_offset_minutes || ' minutes')",
}


def upgrade() -> None:
    op.add_column("studies", sa.Column("study_date", sa.Date(), nullable=True))
    op.execute(DATED[op.get_bind().dialect.name])
    with op.batch_alter_table("studies") as batch:
        batch.alter_column("study_date", existing_type=sa.Date(), nullable=False)
    op.drop_index("ix_studies_study_datetime", table_name="studies")
    op.create_index("ix_studies_study_date", "studies", ["study_date", "study_datetime", "id"])


def downgrade() -> None:
    op.drop_index("ix_studies_study_date", table_name="studies")
    op.create_index("ix_studies_study_datetime", "studies", ["study_datetime", "id"])
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("study_date")
