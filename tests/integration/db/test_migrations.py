"""The Alembic migrations, on each database backend: up from nothing, down, up again, on data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.migrate import alembic_config, migrate
from pointcare.db.models import Base, User


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    database = Database(empty_database_url)
    yield database.engine
    database.dispose()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_there_is_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_the_migrated_schema_is_the_models(engine: Engine) -> None:
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []


def test_down_to_nothing_and_up_again(engine: Engine) -> None:
    migrate(engine, "upgrade", "head")
    migrate(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []


def test_the_patient_merge_columns_are_added_to_a_directory_with_patients(engine: Engine) -> None:
    migrate(engine, "upgrade", "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patients (mrn, issuer, family_name, given_name, name_key, birth_date,"
                " sex, created_at, updated_at) VALUES ('X1', 'HOSP', 'Öberg', 'Åsa', 'oberg asa',"
                " :born, 'F', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"born": date(1957, 3, 14)},
        )
    migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT mrn, family_name, merged_into_id, merged_at FROM patients")
        ).one()
    assert tuple(row) == ("X1", "Öberg", None, None)
    assert differences(engine) == []


@pytest.mark.parametrize(
    ("utc", "offset", "local_date"),
    [
        (datetime(2024, 5, 3, 10, 30, tzinfo=UTC), 14 * 60, date(2024, 5, 4)),
        (datetime(2024, 5, 5, 11, 30, tzinfo=UTC), -12 * 60, date(2024, 5, 4)),
        (datetime(2024, 5, 3, 0, 0, tzinfo=UTC), 23 * 60 + 59, date(2024, 5, 3)),
        (datetime(2024, 5, 4, 23, 59, 59, 999999, tzinfo=UTC), 0, date(2024, 5, 4)),
    ],
)
def test_each_study_is_dated_by_its_own_offset_when_its_date_is_added(
    engine: Engine, utc: datetime, offset: int, local_date: date
) -> None:
    migrate(engine, "upgrade", "0020_search_indexes")
    with engine.begin() as connection:
        for statement in OLD_RECORD[1:3]:
            connection.execute(text(statement), {"at": utc})
        connection.execute(text("UPDATE studies SET study_tz_offset_minutes = :m"), {"m": offset})
    migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT study_date FROM studies")).scalar()
    assert stored in {local_date, local_date.isoformat()}  # SQLite answers the text
    assert differences(engine) == []


def test_processes_that_start_together_migrate_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    # As app nodes and workers started at the same time on one empty database.
    env = {**os.environ, "POINTCARE_DATABASE_URL": empty_database_url}
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "pointcare", "migrate"],
            env={**env, "POINTCARE_DATA_DIR": str(tmp_path / f"node{n}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0], outputs
    database = Database(empty_database_url)
    try:
        assert differences(database.engine) == []
    finally:
        database.dispose()


OLD_RECORD = [
    "INSERT INTO users (id, username, display_name, role, active, created_at)"
    " VALUES (1, 'nurse', 'Nurse', 'photographer', :yes, :at)",
    "INSERT INTO patients (id, mrn, issuer, family_name, given_name, name_key, sex, created_at,"
    " updated_at) VALUES (1, 'PC1', 'HOSP', 'Ek', 'Eva', 'ek eva', 'F', :at, :at)",
    "INSERT INTO studies (id, study_instance_uid, study_key, patient_id, study_id, study_datetime,"
    " study_tz_offset_minutes, description, created_at)"
    " VALUES (1, '1.2.1', 'session:s1', 1, 'PC1', :at, 120, 'Clinical photography', :at)",
    "INSERT INTO series (id, series_instance_uid, series_key, study_id, series_number,"
    " description, instance_count, created_at)"
    " VALUES (1, '1.2.1.1', 'session:s1', 1, 1, 'Bedside capture', 2, :at),"
    " (2, '1.2.1.2', 'documents:session:s1', 1, 2, 'Documents', 1, :at)",
    "INSERT INTO consent_records (id, patient_id, clinical_record, teaching, publication, method,"
    " session_key, recorded_by_id, recorded_at)"
    " VALUES (1, 1, :yes, :no, :no, 'verbal', 'session:s1', 1, :at)",
    "INSERT INTO bedside_sessions (id, user_id, patient_id, started_at, consent_clinical,"
    " consent_teaching, consent_publication, consent_method, consent_recorded_by_id,"
    " consent_recorded_at) VALUES ('s1', 1, 1, :at, :yes, :no, :no, 'verbal', 1, :at),"
    " ('s2', 1, 1, :at, :no, :no, :no, 'written', 1, :at)",
    "INSERT INTO rejection_notes (id, sop_instance_uid, study_instance_uid, series_instance_uid,"
    " patient_id, reason_code, kind, reason_text, storage_path, size_bytes, sha256,"
    " created_by_id, created_at) VALUES (1, '1.2.1.9.1', '1.2.1', '1.2.1.9', 1, '113001',"
    " 'quality', 'blurred', 'objects/k.dcm', 10, 'k', 1, :at)",
    "INSERT INTO instances (id, sop_instance_uid, sop_class_uid, capture_id, patient_id,"
    " study_id, series_id, instance_number, body_site_code, laterality, description,"
    " sensitive, recognizable, consent_id, captured_at, captured_tz_offset_minutes,"
    " operator_id, storage_path, thumbnail_path, size_bytes, sha256, rows, columns,"
    " transfer_syntax_uid, source_format, reencoded, created_at, rejected_at,"
    " rejection_note_id) VALUES"
    " (1, '1.2.1.1.1', '1.2.840.10008.5.1.4.1.1.77.1.4', 'c1', 1, 1, 1, 1, '14975008', 'L',"
    " '', :no, :no, 1, :at, 120, 1, 'objects/1.dcm', 't/1.jpg', 9, 'a', 4, 3,"
    " '1.2.840.10008.1.2.4.50', 'jpeg', :no, :at, :at, 1),"
    " (2, '1.2.1.1.2', '1.2.840.10008.5.1.4.1.1.77.1.4', 'c2', 1, 1, 1, 2, '14975008', 'L',"
    " '', :no, :no, 1, :at, 120, 1, 'objects/2.dcm', 't/2.jpg', 9, 'b', 4, 3,"
    " '1.2.840.10008.1.2.4.50', 'jpeg', :no, :at, NULL, NULL)",
    "INSERT INTO documents (id, sop_instance_uid, capture_id, patient_id, study_id, series_id,"
    " instance_number, title, pdf_bytes, storage_path, size_bytes, sha256, added_by_id,"
    " created_at) VALUES (1, '1.2.1.2.1', 'd1', 1, 1, 2, 1, 'Consent form', 5,"
    " 'objects/d.dcm', 11, 'd', 1, :at)",
    "INSERT INTO deliveries (id, instance_id, rejection_note_id, document_id, state, attempts,"
    " next_attempt_at, created_at) VALUES (1, 2, NULL, NULL, 'pending', 0, :at, :at),"
    " (2, NULL, 1, NULL, 'pending', 0, :at, :at), (3, NULL, NULL, 1, 'pending', 0, :at, :at)",
]


def test_documents_notes_and_bedside_consent_move_into_one_table_and_back(engine: Engine) -> None:
    migrate(engine, "upgrade", "0011_documents")
    at = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for statement in OLD_RECORD:
            connection.execute(text(statement), {"at": at, "yes": True, "no": False})
        if connection.dialect.name == "postgresql":  # ids given above: move the sequences on
            for table in (
                "users",
                "patients",
                "studies",
                "series",
                "consent_records",
                "rejection_notes",
                "instances",
                "documents",
                "deliveries",
            ):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                        f" (SELECT MAX(id) FROM {table}))"
                    )
                )
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []
    with engine.connect() as connection:
        objects = {
            row.sop_instance_uid: row
            for row in connection.execute(
                text(
                    "SELECT id, sop_instance_uid, kind, description, series_id, rejected_by_id,"
                    " consent_id, captured_tz_offset_minutes FROM instances"
                )
            )
        }
        deliveries = dict(connection.execute(text("SELECT id, instance_id FROM deliveries")).all())
        notes = connection.execute(
            text("SELECT instance_id, reason_code, reason_text FROM rejection_notes")
        ).all()
        sessions = dict(
            connection.execute(text("SELECT id, consent_id FROM bedside_sessions")).all()
        )
        declined = connection.execute(
            text(
                "SELECT clinical_record, method FROM consent_records WHERE session_key = 's:s2'"
                " OR session_key = 'session:s2'"
            )
        ).one()
    note, document = objects["1.2.1.9.1"], objects["1.2.1.2.1"]
    assert (note.kind, note.description) == ("rejection_note", "blurred")
    assert (document.kind, document.description, document.consent_id) == (
        "document",
        "Consent form",
        None,
    )
    assert document.captured_tz_offset_minutes == 120
    assert objects["1.2.1.1.1"].rejected_by_id == note.id
    assert objects["1.2.1.1.2"].rejected_by_id is None
    assert deliveries == {1: objects["1.2.1.1.2"].id, 2: note.id, 3: document.id}
    assert [tuple(n) for n in notes] == [(note.id, "113001", "blurred")]
    assert sessions["s1"] == 1  # the record its photos were stored under
    assert sessions["s2"] not in (None, 1)
    assert (bool(declined.clinical_record), declined.method) == (False, "written")

    migrate(engine, "downgrade", "0011_documents")
    with engine.connect() as connection:
        kinds = connection.execute(text("SELECT sop_instance_uid FROM instances")).scalars()
        assert sorted(kinds) == ["1.2.1.1.1", "1.2.1.1.2"]
        assert connection.execute(text("SELECT title, capture_id FROM documents")).one() == (
            "Consent form",
            "d1",
        )
        old_note = connection.execute(
            text("SELECT id, study_instance_uid, series_instance_uid FROM rejection_notes")
        ).one()
        assert tuple(old_note)[1:] == ("1.2.1", "1.2.1.9")
        assert (
            connection.execute(
                text("SELECT rejection_note_id FROM instances WHERE sop_instance_uid = '1.2.1.1.1'")
            ).scalar()
            == old_note.id
        )
        rows = connection.execute(
            text(
                "SELECT id, instance_id, rejection_note_id, document_id FROM deliveries ORDER BY id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            (1, 2, None, None),
            (2, None, old_note.id, None),
            (3, None, None, 1),
        ]
        consent = connection.execute(
            text("SELECT consent_clinical, consent_method FROM bedside_sessions WHERE id = 's2'")
        ).one()
        assert (bool(consent[0]), consent[1]) == (False, "written")
    migrate(engine, "upgrade", "head")
    assert differences(engine) == []


def test_a_temporary_password_given_before_expiry_existed_gets_the_default_validity(
    engine: Engine,
) -> None:
    migrate(engine, "upgrade", "0021_study_date")
    with engine.begin() as connection:
        for name, must_change in (("given", True), ("chosen", False)):
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, role, password_hash, active,"
                    " created_at, token_generation, must_change_password)"
                    " VALUES (:name, :name, 'clinician', 'x', :yes, CURRENT_TIMESTAMP, 0, :must)"
                ),
                {"name": name, "yes": True, "must": must_change},
            )
    before = datetime.now(UTC)
    migrate(engine, "upgrade", "head")
    with Session(engine) as session:  # read through the model: its UTC column type
        expiry = {
            name: at
            for name, at in session.execute(
                select(User.username, User.temporary_password_expires_at)
            )
        }
    assert expiry["chosen"] is None
    given = expiry["given"]
    assert given is not None
    assert before + timedelta(hours=72) <= given <= datetime.now(UTC) + timedelta(hours=72)
    assert differences(engine) == []
