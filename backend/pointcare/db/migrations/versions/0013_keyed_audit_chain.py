"""keyed audit chain: events from here on are hashed with the audit key (HMAC-SHA256); an index
for the thumbnails a list already showed

The events already recorded keep their plain SHA-256 hashes and keep verifying: the chain is
keyed from the event after the last one, a number this migration writes once into
``audit_chain`` (append-only, like the events), and every checkpoint repeats it.

Revision ID: 0013_keyed_audit_chain
Revises: 0012_stored_objects
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_keyed_audit_chain"
down_revision: str | Sequence[str] | None = "0012_stored_objects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit_chain is append-only"
PG_FUNCTION = f"""
CREATE FUNCTION audit_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
END
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER audit_chain_no_update_delete BEFORE UPDATE OR DELETE ON audit_chain "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only()",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_append_only()",
)
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_chain_no_{verb.lower()} BEFORE {verb} ON audit_chain "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    for verb in ("UPDATE", "DELETE")
)


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("keyed_from_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("keyed_from_seq"),
    )
    op.execute(
        "INSERT INTO audit_chain (keyed_from_seq) "
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events"
    )
    # Whether a list showed a user this patient's thumbnail lately (audit.shown_in_a_list).
    op.create_index(
        "ix_audit_events_user_patient", "audit_events", ["user_id", "patient_id"], unique=False
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_update_delete ON audit_chain")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_update")
    op.drop_index("ix_audit_events_user_patient", table_name="audit_events")
    op.drop_table("audit_chain")
