"""API tokens revoked with "sign out everywhere" (a per-user token generation); the bedside idle
lock held by the server (a session's lock time)

Revision ID: 0014_tokens_and_session_lock
Revises: 0013_keyed_audit_chain
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_tokens_and_session_lock"
down_revision: str | Sequence[str] | None = "0013_keyed_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, no batch: SQLite adds and drops these columns in place (a batch would
# copy user_sessions and lose the name of its launch foreign key, which 0006 drops by name).
def upgrade() -> None:
    op.add_column(
        "users", sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("user_sessions", sa.Column("locked_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("user_sessions", "locked_at")
    op.drop_column("users", "token_generation")
