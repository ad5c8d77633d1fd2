"""Reading patient CSV files (no database): columns, cells, and where problems are reported."""

from __future__ import annotations

from datetime import date

import pytest

from pointcare.domain.patients import Sex
from pointcare.identity.feed import ImportFailed, RowError
from pointcare.identity.importer import read_patient_feed

HEADER = "mrn,family_name,given_name,birth_date,sex"


def read(text: str) -> list[RowError]:
    """The errors of a file that must fail."""
    with pytest.raises(ImportFailed) as failed:
        read_patient_feed(text.encode(), default_issuer="HOSP")
    return list(failed.value.rows)


def test_columns_in_any_order_and_any_case_with_optional_ones() -> None:
    text = (
        " Sex ,BIRTH_DATE,given_name,family_name,mrn,visit_number,issuer\n"
        "F,1957-03-14,Åsa,Öberg,A1,V9,LAB\n"
    )
    feed = read_patient_feed(text.encode(), default_issuer="HOSP")
    assert feed.format == "csv"
    assert feed.carries_visits
    (row,) = feed.rows
    assert row.line == 2
    assert row.identity.mrn == "A1"
    assert row.identity.issuer == "LAB"
    assert row.identity.family_name == "Öberg"
    assert row.identity.birth_date == date(1957, 3, 14)
    assert row.identity.sex is Sex.FEMALE
    assert row.identity.visit_number == "V9"


def test_empty_issuer_cell_means_the_default_issuer_and_empty_birth_date_unknown() -> None:
    text = f"{HEADER},issuer\nA1,Doe,,,U,\n"
    (row,) = read_patient_feed(text.encode(), default_issuer="HOSP").rows
    assert row.identity.issuer == "HOSP"
    assert row.identity.birth_date is None
    assert row.identity.given_name == ""
    assert not read_patient_feed(
        f"{HEADER}\nA1,Doe,,,U\n".encode(), default_issuer="H"
    ).carries_visits


def test_blank_lines_are_skipped_and_lines_are_counted_as_in_an_editor() -> None:
    text = f'{HEADER}\r\n\r\nA1,"Smith\nJones",Ann,1970-01-01,F\r\nA2,Doe,Jo,1970-13-01,F\r\n'
    # A1 spans lines 3 and 4 (a line break inside quotes), so A2 is on line 5.
    assert read(text) == [
        RowError(5, "birth date '1970-13-01' is not a date in the form YYYY-MM-DD")
    ]


def test_every_problem_of_a_row_is_reported() -> None:
    errors = read(f"{HEADER}\n,Doe,Jo,19700101,X\n")
    assert [e.line for e in errors] == [2, 2, 2]
    assert "MRN is empty" in errors[0].message
    assert "YYYY-MM-DD" in errors[1].message
    assert "sex must be one of M, F, O or U" in errors[2].message


@pytest.mark.parametrize(
    ("born", "reason"),
    [
        ("1980", "YYYY-MM-DD"),
        ("1980-02-30", "YYYY-MM-DD"),
        ("２０２０-01-01", "YYYY-MM-DD"),
        ("2999-01-01", "future"),
    ],
)
def test_birth_dates_must_be_full_iso_dates_in_the_past(born: str, reason: str) -> None:
    (error,) = read(f"{HEADER}\nA1,Doe,Jo,{born},F\n")
    assert reason in error.message


def test_a_row_with_the_wrong_number_of_cells() -> None:
    (error,) = read(f"{HEADER}\nA1,Doe,Jo,1970-01-01\n")
    assert error == RowError(2, "has 4 cells; the header has 5")


def test_semicolon_separated_files_get_a_hint() -> None:
    (error,) = read("mrn;family_name;given_name;birth_date;sex\nA1;Doe;Jo;1970-01-01;F\n")
    assert error.line == 1
    assert "semicolons" in error.message


def test_repeated_columns_are_refused() -> None:
    (error,) = read(f"{HEADER},mrn\nA1,Doe,Jo,1970-01-01,F,A1\n")
    assert error == RowError(1, "repeated column(s): mrn")


def test_a_stray_quote_is_an_error_not_a_swallowed_file() -> None:
    (error,) = read(f'{HEADER}\nA1,"Doe"x,Jo,1970-01-01,F\nA2,Roe,Jo,1970-01-01,F\n')
    assert error.line == 2
    assert "not valid CSV" in error.message


def test_a_header_without_rows_is_an_error() -> None:
    assert read(f"{HEADER}\n") == [RowError(1, "the file has a header but no patients")]


def test_the_failure_detail_quotes_a_few_errors_and_counts_the_rest() -> None:
    rows = "".join(f"A{n},Doe,Jo,bad,F\n" for n in range(8))
    with pytest.raises(ImportFailed) as failed:
        read_patient_feed(f"{HEADER}\n{rows}".encode(), default_issuer="H")
    detail = failed.value.detail
    assert detail.startswith("Nothing was imported: 8 problems in the file. line 2: birth date")
    assert detail.endswith("; and 3 more")
    assert failed.value.errors["line 9"] == "birth date 'bad' is not a date in the form YYYY-MM-DD"
