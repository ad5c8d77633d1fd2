"""stored objects: one table (instances) for photos, documents and rejection notes; deliveries
refer to one stored object; bedside sessions refer to their consent record; MRNs are looked up
whatever their case

Documents and rejection notes become rows of ``instances`` (``kind`` says which); a rejection
note keeps its clinician's side (reason, who) in ``rejection_notes``, now keyed by its instance,
and gets a series row of its own. Rejected objects point at the note's instance
(``rejected_by_id``). Bedside sessions refer to a consent record instead of copying its flags.

Revision ID: 0012_stored_objects
Revises: 0011_documents
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_stored_objects"
down_revision: str | Sequence[str] | None = "0011_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
REJECTION_SERIES_NUMBER = 9999

IMAGE_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "body_site_code": sa.String(length=20),
    "laterality": sa.String(length=1),
    "consent_id": sa.Integer(),
    "thumbnail_path": sa.String(length=255),
    "rows": sa.Integer(),
    "columns": sa.Integer(),
    "source_format": sa.String(length=8),
    "reencoded": sa.Boolean(),
}
"""Columns of a photo that the other kinds of object do not have."""

BEDSIDE_CONSENT_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "consent_clinical": sa.Boolean(),
    "consent_teaching": sa.Boolean(),
    "consent_publication": sa.Boolean(),
    "consent_method": sa.String(length=16),
    "consent_recorded_by_id": sa.Integer(),
    "consent_recorded_at": sa.DateTime(timezone=True),
}


def upgrade() -> None:
    op.create_index("ix_patients_mrn_folded", "patients", [sa.text("upper(mrn)")], unique=False)
    _instances_for_every_kind()
    _documents_into_instances()
    _rejection_notes_into_instances()
    _deliveries_of_one_object()
    _bedside_sessions_refer_to_consent()


def _instances_for_every_kind() -> None:
    op.add_column(
        "instances",
        sa.Column("kind", sa.String(length=24), nullable=False, server_default="photo"),
    )
    op.add_column(
        "instances",
        sa.Column(
            "captured_at_source", sa.String(length=16), nullable=False, server_default="device"
        ),
    )
    op.add_column("instances", sa.Column("content_sha256", sa.String(length=64), nullable=True))
    op.add_column("instances", sa.Column("rejected_by_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("instances") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=24), server_default=None)
        batch.alter_column(
            "captured_at_source", existing_type=sa.String(length=16), server_default=None
        )
        batch.alter_column("capture_id", existing_type=sa.String(length=36), nullable=True)
        for name, type_ in IMAGE_COLUMNS.items():
            batch.alter_column(name, existing_type=type_, nullable=True)
        batch.create_foreign_key(
            "fk_instances_rejected_by_id_instances", "instances", ["rejected_by_id"], ["id"]
        )
        batch.create_index("ix_instances_rejected_by_id", ["rejected_by_id"], unique=False)
        batch.create_index(
            "ix_instances_patient_content", ["patient_id", "content_sha256"], unique=False
        )


def _documents_into_instances() -> None:
    op.execute(
        sa.text(
            """
            INSERT INTO instances (
                sop_instance_uid, sop_class_uid, kind, capture_id, patient_id, study_id,
                series_id, instance_number, description, sensitive, recognizable, captured_at,
                captured_tz_offset_minutes, captured_at_source, operator_id, storage_path,
                size_bytes, sha256, transfer_syntax_uid, created_at
            )
            SELECT d.sop_instance_uid, :pdf, 'document', d.capture_id, d.patient_id, d.study_id,
                   d.series_id, d.instance_number, d.title, :no, :no, d.created_at,
                   s.study_tz_offset_minutes, 'server', d.added_by_id, d.storage_path,
                   d.size_bytes, d.sha256, :explicit, d.created_at
            FROM documents d JOIN studies s ON s.id = d.study_id
            """
        ).bindparams(pdf=ENCAPSULATED_PDF, explicit=EXPLICIT_VR_LITTLE_ENDIAN, no=False)
    )
    op.execute(
        """
        UPDATE deliveries SET instance_id = (
            SELECT i.id FROM instances i JOIN documents d ON d.sop_instance_uid = i.sop_instance_uid
            WHERE d.id = deliveries.document_id
        ) WHERE document_id IS NOT NULL
        """
    )


def _rejection_notes_into_instances() -> None:
    op.execute(
        sa.text(
            """
            INSERT INTO series (
                series_instance_uid, series_key, study_id, series_number, description,
                instance_count, created_at
            )
            SELECT rn.series_instance_uid, 'rejection:' || rn.sop_instance_uid, s.id, :number,
                   'Rejection note', 1, rn.created_at
            FROM rejection_notes rn JOIN studies s ON s.study_instance_uid = rn.study_instance_uid
            """
        ).bindparams(number=REJECTION_SERIES_NUMBER)
    )
    op.execute(
        sa.text(
            """
            INSERT INTO instances (
                sop_instance_uid, sop_class_uid, kind, patient_id, study_id, series_id,
                instance_number, description, sensitive, recognizable, captured_at,
                captured_tz_offset_minutes, captured_at_source, operator_id, storage_path,
                size_bytes, sha256, transfer_syntax_uid, created_at
            )
            SELECT rn.sop_instance_uid, :kos, 'rejection_note', rn.patient_id, se.study_id,
                   se.id, 1, rn.reason_text, :no, :no, rn.created_at,
                   COALESCE((SELECT MIN(r.captured_tz_offset_minutes) FROM instances r
                             WHERE r.rejection_note_id = rn.id), 0),
                   'server', rn.created_by_id, rn.storage_path, rn.size_bytes, rn.sha256,
                   :explicit, rn.created_at
            FROM rejection_notes rn
            JOIN series se ON se.series_instance_uid = rn.series_instance_uid
            """
        ).bindparams(kos=KEY_OBJECT_SELECTION, explicit=EXPLICIT_VR_LITTLE_ENDIAN, no=False)
    )
    op.execute(
        """
        UPDATE instances SET rejected_by_id = (
            SELECT note.id FROM instances note
            JOIN rejection_notes rn ON rn.sop_instance_uid = note.sop_instance_uid
            WHERE rn.id = instances.rejection_note_id
        ) WHERE rejection_note_id IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE deliveries SET instance_id = (
            SELECT i.id FROM instances i
            JOIN rejection_notes rn ON rn.sop_instance_uid = i.sop_instance_uid
            WHERE rn.id = deliveries.rejection_note_id
        ) WHERE rejection_note_id IS NOT NULL
        """
    )
    op.create_table(
        "rejection_notes_by_instance",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name="fk_rejection_notes_instance_id_instances"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name="fk_rejection_notes_created_by_id_users"
        ),
        sa.PrimaryKeyConstraint("instance_id", name="pk_rejection_notes"),
    )
    op.execute(
        """
        INSERT INTO rejection_notes_by_instance (
            instance_id, reason_code, kind, reason_text, created_by_id, created_at
        )
        SELECT i.id, rn.reason_code, rn.kind, rn.reason_text, rn.created_by_id, rn.created_at
        FROM rejection_notes rn JOIN instances i ON i.sop_instance_uid = rn.sop_instance_uid
        """
    )
    _drop_rejection_note_id_of_instances()


def _drop_rejection_note_id_of_instances() -> None:
    op.drop_index("ix_instances_rejection_note_id", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(
                "fk_instances_rejection_note_id_rejection_notes", type_="foreignkey"
            )
        batch.drop_column("rejection_note_id")


def _deliveries_of_one_object() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_rejection_note_id", type_="unique")
        batch.drop_constraint("fk_deliveries_rejection_note_id_rejection_notes", type_="foreignkey")
        batch.drop_column("rejection_note_id")
        batch.drop_constraint("uq_deliveries_document_id", type_="unique")
        batch.drop_constraint("fk_deliveries_document_id_documents", type_="foreignkey")
        batch.drop_column("document_id")
        batch.alter_column("instance_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_rejection_notes_study_instance_uid", table_name="rejection_notes")
    op.drop_index("ix_rejection_notes_patient_id", table_name="rejection_notes")
    op.drop_table("rejection_notes")
    op.rename_table("rejection_notes_by_instance", "rejection_notes")
    for column in ("series_id", "study_id", "patient_id"):
        op.drop_index(f"ix_documents_{column}", table_name="documents")
    op.drop_table("documents")


def _bedside_sessions_refer_to_consent() -> None:
    op.add_column("bedside_sessions", sa.Column("consent_id", sa.Integer(), nullable=True))
    matching = """
        c.patient_id = b.patient_id AND c.session_key = 'session:' || b.id
        AND c.clinical_record = b.consent_clinical AND c.teaching = b.consent_teaching
        AND c.publication = b.consent_publication AND c.method = b.consent_method
        AND c.recorded_by_id = b.consent_recorded_by_id
    """
    op.execute(
        f"""
        INSERT INTO consent_records (
            patient_id, clinical_record, teaching, publication, method, session_key,
            recorded_by_id, recorded_at
        )
        SELECT b.patient_id, b.consent_clinical, b.consent_teaching, b.consent_publication,
               b.consent_method, 'session:' || b.id, b.consent_recorded_by_id,
               b.consent_recorded_at
        FROM bedside_sessions b
        WHERE b.consent_method IS NOT NULL AND b.consent_clinical IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM consent_records c WHERE {matching})
        """  # noqa: S608 - a constant clause, no input
    )
    op.execute(
        f"""
        UPDATE bedside_sessions SET consent_id = (
            SELECT MIN(c.id) FROM consent_records c, bedside_sessions b
            WHERE b.id = bedside_sessions.id AND {matching}
        ) WHERE consent_method IS NOT NULL AND consent_clinical IS NOT NULL
        """  # noqa: S608 - a constant clause, no input
    )
    with op.batch_alter_table("bedside_sessions") as batch:
        batch.create_foreign_key(
            "fk_bedside_sessions_consent_id_consent_records",
            "consent_records",
            ["consent_id"],
            ["id"],
        )
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(
                "bedside_sessions_consent_recorded_by_id_fkey", type_="foreignkey"
            )
        for name in BEDSIDE_CONSENT_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_patients_mrn_folded", table_name="patients")
    # Bedside sessions copy their consent record's answers again.
    with op.batch_alter_table("bedside_sessions") as batch:
        for name, type_ in BEDSIDE_CONSENT_COLUMNS.items():
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_foreign_key(
            "bedside_sessions_consent_recorded_by_id_fkey",
            "users",
            ["consent_recorded_by_id"],
            ["id"],
        )
    op.execute(
        """
        UPDATE bedside_sessions SET
            consent_clinical = (SELECT c.clinical_record FROM consent_records c
                                WHERE c.id = bedside_sessions.consent_id),
            consent_teaching = (SELECT c.teaching FROM consent_records c
                                WHERE c.id = bedside_sessions.consent_id),
            consent_publication = (SELECT c.publication FROM consent_records c
                                   WHERE c.id = bedside_sessions.consent_id),
            consent_method = (SELECT c.method FROM consent_records c
                              WHERE c.id = bedside_sessions.consent_id),
            consent_recorded_by_id = (SELECT c.recorded_by_id FROM consent_records c
                                      WHERE c.id = bedside_sessions.consent_id),
            consent_recorded_at = (SELECT c.recorded_at FROM consent_records c
                                   WHERE c.id = bedside_sessions.consent_id)
        WHERE consent_id IS NOT NULL
        """
    )
    with op.batch_alter_table("bedside_sessions") as batch:
        batch.drop_constraint("fk_bedside_sessions_consent_id_consent_records", type_="foreignkey")
        batch.drop_column("consent_id")

    _rejection_notes_in_their_own_table()
    _documents_in_their_own_table()
    _deliveries_of_three_kinds()
    # Documents and notes now live in their own tables again: their rows here go, then the
    # notes' own series.
    op.execute("UPDATE instances SET rejected_by_id = NULL")
    op.execute("DELETE FROM instances WHERE kind <> 'photo'")
    op.execute("DELETE FROM series WHERE series_key LIKE 'rejection:%'")
    op.drop_index("ix_instances_patient_content", table_name="instances")
    op.drop_index("ix_instances_rejected_by_id", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        if not sqlite:
            batch.drop_constraint("fk_instances_rejected_by_id_instances", type_="foreignkey")
        batch.drop_column("rejected_by_id")
        batch.drop_column("content_sha256")
        batch.drop_column("captured_at_source")
        batch.drop_column("kind")
        batch.alter_column("capture_id", existing_type=sa.String(length=36), nullable=False)
        for name, type_ in IMAGE_COLUMNS.items():
            batch.alter_column(name, existing_type=type_, nullable=False)


def _rejection_notes_in_their_own_table() -> None:
    op.rename_table("rejection_notes", "rejection_notes_by_instance")
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
    op.create_index("ix_rejection_notes_patient_id", "rejection_notes", ["patient_id"])
    op.create_index(
        "ix_rejection_notes_study_instance_uid", "rejection_notes", ["study_instance_uid"]
    )
    op.execute(
        """
        INSERT INTO rejection_notes (
            sop_instance_uid, study_instance_uid, series_instance_uid, patient_id, reason_code,
            kind, reason_text, storage_path, size_bytes, sha256, created_by_id, created_at
        )
        SELECT i.sop_instance_uid, st.study_instance_uid, se.series_instance_uid, i.patient_id,
               rn.reason_code, rn.kind, rn.reason_text, i.storage_path, i.size_bytes, i.sha256,
               rn.created_by_id, rn.created_at
        FROM rejection_notes_by_instance rn
        JOIN instances i ON i.id = rn.instance_id
        JOIN series se ON se.id = i.series_id
        JOIN studies st ON st.id = i.study_id
        """
    )
    op.drop_table("rejection_notes_by_instance")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes REFERENCES inside ADD COLUMN, not a constraint added later (see 0003).
        op.execute(
            "ALTER TABLE instances ADD COLUMN rejection_note_id INTEGER "
            "REFERENCES rejection_notes (id)"
        )
    else:
        op.add_column("instances", sa.Column("rejection_note_id", sa.Integer()))
        op.create_foreign_key(
            "fk_instances_rejection_note_id_rejection_notes",
            "instances",
            "rejection_notes",
            ["rejection_note_id"],
            ["id"],
        )
    op.create_index("ix_instances_rejection_note_id", "instances", ["rejection_note_id"])
    op.execute(
        """
        UPDATE instances SET rejection_note_id = (
            SELECT rn.id FROM rejection_notes rn JOIN instances note
                ON note.sop_instance_uid = rn.sop_instance_uid
            WHERE note.id = instances.rejected_by_id
        ) WHERE rejected_by_id IS NOT NULL
        """
    )


def _documents_in_their_own_table() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("capture_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("instance_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("pdf_bytes", sa.Integer(), nullable=False),
        sa.Column("storage_path", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"]),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("capture_id"),
        sa.UniqueConstraint("sop_instance_uid"),
    )
    for column in ("patient_id", "study_id", "series_id"):
        op.create_index(f"ix_documents_{column}", "documents", [column], unique=False)
    # The PDF's own length is not kept apart from its object's: the object's size stands in.
    op.execute(
        """
        INSERT INTO documents (
            sop_instance_uid, capture_id, patient_id, study_id, series_id, instance_number,
            title, pdf_bytes, storage_path, size_bytes, sha256, added_by_id, created_at
        )
        SELECT sop_instance_uid, COALESCE(capture_id, sop_instance_uid), patient_id, study_id,
               series_id, instance_number, SUBSTR(description, 1, 64), size_bytes, storage_path,
               size_bytes, sha256, operator_id, created_at
        FROM instances WHERE kind = 'document'
        """
    )


def _deliveries_of_three_kinds() -> None:
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
        batch.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_document_id_documents",
            "documents",
            ["document_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_deliveries_document_id", ["document_id"])
    op.execute(
        """
        UPDATE deliveries SET rejection_note_id = (
            SELECT rn.id FROM rejection_notes rn JOIN instances i
                ON i.sop_instance_uid = rn.sop_instance_uid
            WHERE i.id = deliveries.instance_id
        ), document_id = (
            SELECT d.id FROM documents d JOIN instances i ON i.sop_instance_uid = d.sop_instance_uid
            WHERE i.id = deliveries.instance_id
        )
        """
    )
    op.execute(
        "UPDATE deliveries SET instance_id = NULL "
        "WHERE rejection_note_id IS NOT NULL OR document_id IS NOT NULL"
    )
