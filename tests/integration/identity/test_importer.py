"""``pointcare patients import FILE`` against a real (SQLite) database: all or nothing."""

from __future__ import annotations

import codecs
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pointcare.db.engine import Database
from pointcare.db.models import Patient
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.errors import InvalidInput
from pointcare.identity.directory import find_by_mrn, identity_of, upsert_patient
from pointcare.identity.feed import RowError
from pointcare.identity.fhir_feed import V2_IDENTIFIER_TYPES
from pointcare.identity.importer import ImportFailed, ImportReport, import_patients

HEADER = "mrn,family_name,given_name,birth_date,sex"
GOOD_ROWS = (
    "A1,Öberg,Åsa,1957-03-14,F\nA2,O'Brien,Seán,1948-07-30,M\nA3,Andersson,Eva,1962-05-09,F\n"
)

A1_BEFORE = PatientIdentity(
    mrn="A1",
    issuer="HOSP",
    family_name="Before",
    given_name="Import",
    birth_date=date(1957, 3, 14),
    sex=Sex.FEMALE,
)
"""A1 as stored before an import that would rename it."""


def write(tmp_path: Path, content: str | bytes, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def run(db: Database, path: Path) -> ImportReport:
    with db.write() as session:
        return import_patients(session, path, default_issuer="HOSP")


def fails(db: Database, path: Path) -> list[RowError]:
    with pytest.raises(ImportFailed) as failed:
        run(db, path)
    return list(failed.value.rows)


def count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0


# --- Files that import -----------------------------------------------------------------------


def test_a_good_csv_creates_then_updates(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD_ROWS}")
    assert run(db, path) == ImportReport(created=3, updated=0, unchanged=0)
    assert run(db, path) == ImportReport(created=0, updated=0, unchanged=3)
    changed = write(tmp_path, f"{HEADER}\n{GOOD_ROWS.replace('Seán', 'Sean')}A4,Doe,,,U\n")
    assert run(db, changed) == ImportReport(created=1, updated=1, unchanged=2)
    with db.session() as session:
        obrien = find_by_mrn(session, "A2", "HOSP")
        assert obrien is not None
        assert obrien.given_name == "Sean"
        assert obrien.name_key == "obrien sean"
        doe = find_by_mrn(session, "A4")
        assert doe is not None
        assert (doe.birth_date, doe.sex, doe.given_name) == (None, "U", "")


def test_a_byte_order_mark_is_tolerated(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + f"{HEADER}\n{GOOD_ROWS}".encode())
    assert run(db, path).created == 3


def test_issuer_and_visit_columns(db: Database, tmp_path: Path) -> None:
    text = f"{HEADER},issuer,visit_number\nA1,Öberg,Åsa,1957-03-14,F,LAB,V1\nA2,Roe,Jo,,M,,\n"
    run(db, write(tmp_path, text))
    with db.session() as session:
        oberg = find_by_mrn(session, "A1")
        assert oberg is not None
        assert (oberg.issuer, oberg.visit_number) == ("LAB", "V1")
        roe = find_by_mrn(session, "A2")
        assert roe is not None
        assert (roe.issuer, roe.visit_number) == ("HOSP", None)


def test_a_file_without_visits_keeps_stored_visits_and_an_empty_cell_clears_them(
    db: Database, tmp_path: Path
) -> None:
    run(db, write(tmp_path, f"{HEADER},visit_number\nA1,Öberg,Åsa,1957-03-14,F,V1\n"))
    run(db, write(tmp_path, f"{HEADER}\nA1,Öberg,Åsa,1957-03-14,F\n"))
    with db.session() as session:
        patient = find_by_mrn(session, "A1")
        assert patient is not None
        assert patient.visit_number == "V1"
    run(db, write(tmp_path, f"{HEADER},visit_number\nA1,Öberg,Åsa,1957-03-14,F,\n"))
    with db.session() as session:
        patient = find_by_mrn(session, "A1")
        assert patient is not None
        assert patient.visit_number is None


def test_a_fhir_bundle(db: Database, tmp_path: Path) -> None:
    mr = {"coding": [{"system": V2_IDENTIFIER_TYPES, "code": "MR"}]}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"type": mr, "system": "urn:oid:1.2.752.1", "value": "F1"}],
                    "name": [{"use": "official", "family": "Wójcik", "given": ["Łukasz"]}],
                    "birthDate": "1979-09-17",
                    "gender": "male",
                }
            },
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"value": "F2"}],
                    "name": [{"family": "Taylor", "given": ["Alex"]}],
                    "gender": "other",
                }
            },
        ],
    }
    path = write(tmp_path, "\n  " + json.dumps(bundle, indent=2), "patients.json")
    assert run(db, path) == ImportReport(created=2, updated=0)
    with db.session() as session:
        wojcik = find_by_mrn(session, "F1", "1.2.752.1")
        assert wojcik is not None
        assert identity_of(wojcik).sex is Sex.MALE
        assert wojcik.name_key == "wojcik lukasz"
        taylor = find_by_mrn(session, "F2", "HOSP")
        assert taylor is not None
        assert (taylor.sex, taylor.birth_date) == ("O", None)


# --- Files that fail, and leave the directory as it was ---------------------------------------


def test_a_bad_date_on_line_4_is_reported_there_and_nothing_is_imported(
    db: Database, tmp_path: Path
) -> None:
    with db.write() as session:
        upsert_patient(session, A1_BEFORE)
    bad = GOOD_ROWS.replace("1962-05-09", "1962-05-32")  # third data row: line 4
    errors = fails(db, write(tmp_path, f"{HEADER}\n{bad}"))
    assert errors == [RowError(4, "birth date '1962-05-32' is not a date in the form YYYY-MM-DD")]
    assert count(db) == 1
    with db.session() as session:
        stored = find_by_mrn(session, "A1")
        assert stored is not None
        assert identity_of(stored) == A1_BEFORE  # line 2 would have renamed it


def test_the_failure_is_invalid_input_with_a_readable_detail(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as failed:
        run(db, write(tmp_path, f"{HEADER}\nA1,Doe,Jo,1970-01-01,Q\n"))
    assert failed.value.status_code == 422
    assert failed.value.detail == (
        "Nothing was imported: 1 problem in the file. "
        "line 2: sex must be one of M, F, O or U, got 'Q'"
    )


def test_a_missing_column(db: Database, tmp_path: Path) -> None:
    errors = fails(db, write(tmp_path, "mrn,family_name,given_name,sex\nA1,Doe,Jo,F\n"))
    assert errors == [RowError(1, "missing column(s): birth_date")]
    assert count(db) == 0


def test_an_unknown_column_is_named(db: Database, tmp_path: Path) -> None:
    errors = fails(db, write(tmp_path, f"{HEADER},vist_number\nA1,Doe,Jo,1970-01-01,F,V1\n"))
    (error,) = errors
    assert error.line == 1
    assert error.message.startswith("unknown column(s): 'vist_number' (allowed: mrn,")
    assert count(db) == 0


def test_the_same_mrn_twice_in_one_file(db: Database, tmp_path: Path) -> None:
    # Line 2's empty issuer is the default (HOSP); line 3 is another issuer's A1, so not a repeat.
    text = (
        f"{HEADER},issuer\n"
        "A1,Doe,Jo,1970-01-01,F,\n"
        "A1,Doe,Jo,1970-01-01,F,OTHER\n"
        "A1,Roe,Jo,1971-01-01,F,HOSP\n"
    )
    errors = fails(db, write(tmp_path, text))
    assert errors == [RowError(4, "MRN A1 (issuer HOSP) is already on line 2")]
    assert count(db) == 0


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", codecs.BOM_UTF8])
def test_an_empty_file(db: Database, tmp_path: Path, content: bytes) -> None:
    assert fails(db, write(tmp_path, content)) == [RowError(1, "the file is empty")]


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(db: Database, tmp_path: Path) -> None:
    latin1 = f"{HEADER}\nA1,Doe,Jo,1970-01-01,F\nA2,Öberg,Åsa,1957-03-14,F\n".encode("latin-1")
    (error,) = fails(db, write(tmp_path, latin1))
    assert error.line == 3
    assert error.message.startswith("is not UTF-8 text (byte 0xD6); save the file as UTF-8")
    assert count(db) == 0


def test_a_utf16_file_gets_a_hint(db: Database, tmp_path: Path) -> None:
    (error,) = fails(db, write(tmp_path, f"{HEADER}\n".encode("utf-16")))
    assert "UTF-16" in error.message


def test_a_fhir_bundle_with_a_non_patient_entry(db: Database, tmp_path: Path) -> None:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"value": "F1"}],
        "name": [{"family": "Doe"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "entry": [{"resource": patient}, {"resource": {"resourceType": "Encounter"}}],
    }
    errors = fails(db, write(tmp_path, json.dumps(bundle), "bundle.json"))
    assert [str(e) for e in errors] == [
        "entry 2: is a 'Encounter' resource; only Patient resources can be imported"
    ]
    assert count(db) == 0


def test_invalid_json(db: Database, tmp_path: Path) -> None:
    (error,) = fails(db, write(tmp_path, '{"resourceType": "Bundle",\n "entry": [}', "x.json"))
    assert error.line == 2
    assert "not valid JSON" in error.message


def test_a_missing_file(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        run(db, tmp_path / "absent.csv")
