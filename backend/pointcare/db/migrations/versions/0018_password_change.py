"""a password that must be changed at the next sign-in (a new account, a reset by an admin)

Revision ID: 0018_password_change
Revises: 0017_findings
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_password_change"
down_revision: str | Sequence[str] | None = "0017_findings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, no batch (as 0014): SQLite adds and drops the column in place.
def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("users", "must_change_password")
