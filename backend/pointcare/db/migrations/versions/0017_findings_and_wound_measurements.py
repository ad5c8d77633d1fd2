"""findings (wounds, lesions) with their photos, and wound measurements

Revision ID: 0017_findings
Revises: 0016_adt_event_order
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_findings"
down_revision: str | Sequence[str] | None = "0016_adt_event_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("tracking_uid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("body_site_code", sa.String(length=20), nullable=False),
        sa.Column("laterality", sa.String(length=1), nullable=False),
        sa.Column("aspect", sa.String(length=16), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracking_uid"),
        sa.UniqueConstraint("patient_id", "label", name="uq_findings_patient_label"),
    )
    op.create_index("ix_findings_patient_id", "findings", ["patient_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes REFERENCES inside ADD COLUMN; rebuilding `instances` (batch) would turn
        # its other references into table constraints that 0010's downgrade cannot drop.
        op.execute("ALTER TABLE instances ADD COLUMN finding_id INTEGER REFERENCES findings (id)")
    else:
        op.add_column("instances", sa.Column("finding_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_instances_finding_id_findings", "instances", "findings", ["finding_id"], ["id"]
        )
    op.create_index("ix_instances_finding_id", "instances", ["finding_id"], unique=False)
    op.create_table(
        "wound_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("area_cm2", sa.Float(), nullable=False),
        sa.Column("length_cm", sa.Float(), nullable=False),
        sa.Column("width_cm", sa.Float(), nullable=False),
        sa.Column("perimeter_cm", sa.Float(), nullable=False),
        sa.Column("tilt_deg", sa.Float(), nullable=False),
        sa.Column("marker_side_px", sa.Float(), nullable=False),
        sa.Column("outline", sa.JSON(), nullable=False),
        sa.Column("measured_by_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
        sa.ForeignKeyConstraint(["photo_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["measured_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_wound_measurements_finding_measured",
        "wound_measurements",
        ["finding_id", "measured_at"],
        unique=False,
    )
    op.create_index(
        "ix_wound_measurements_photo_id", "wound_measurements", ["photo_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("wound_measurements")
    op.drop_index("ix_instances_finding_id", table_name="instances")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_instances_finding_id_findings", "instances", type_="foreignkey")
    op.drop_column("instances", "finding_id")
    op.drop_index("ix_findings_patient_id", table_name="findings")
    op.drop_table("findings")
