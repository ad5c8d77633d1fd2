"""a temporary password stops working when unused for long (POINTCARE_TEMPORARY_PASSWORD_HOURS)

Revision ID: 0022_temporary_password_expiry
Revises: 0021_study_date
Create Date: 2026-12-07 08:00:00

A temporary password given out before this version gets the default validity from the upgrade
on (72 hours): none stops working at the moment of the upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0022_temporary_password_expiry"
down_revision: str | Sequence[str] | None = "0021_study_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_VALIDITY = timedelta(hours=72)


# Plain ALTER TABLE, no batch (as 0018): SQLite adds and drops the column in place.
def upgrade() -> None:
    op.add_column("users", sa.Column("temporary_password_expires_at", sa.DateTime(timezone=True)))
    users = sa.table(
        "users",
        sa.column("must_change_password", sa.Boolean()),
        sa.column("temporary_password_expires_at", sa.DateTime(timezone=True)),
    )
    expires = datetime.now(UTC) + DEFAULT_VALIDITY
    if op.get_bind().dialect.name == "sqlite":
        expires = expires.replace(tzinfo=None)  # UTC without an offset, as the model writes it
    op.execute(
        users.update()
        .where(users.c.must_change_password.is_(True))
        .values(temporary_password_expires_at=expires)
    )


def downgrade() -> None:
    op.drop_column("users", "temporary_password_expires_at")
