"""sign-in throttling and lockout; break-the-glass grants

Revision ID: 0008_security
Revises: 0007_audit
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_security"
down_revision: str | Sequence[str] | None = "0007_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
