"""Patients from a CSV file: header on line 1, one patient per line after it.

Columns (any order; names trimmed and compared without case): ``mrn``, ``family_name``,
``given_name``, ``birth_date`` (YYYY-MM-DD, empty when unknown), ``sex`` (M, F, O or U) are
required; ``issuer`` (empty cell: the default issuer) and ``visit_number`` are optional. Any other
column is an error, so that a misspelt optional column is not silently ignored.
"""

from __future__ import annotations

import csv
import io

from pointcare.identity.feed import FeedRow, FieldChecks, RowError

REQUIRED_COLUMNS = ("mrn", "family_name", "given_name", "birth_date", "sex")
OPTIONAL_COLUMNS = ("issuer", "visit_number")


def read_csv(text: str, *, default_issuer: str) -> tuple[list[FeedRow], list[RowError], bool]:
    """Rows and errors of a whole CSV text, and whether it has a ``visit_number`` column."""
    # newline="" hands line endings to the csv module, which then counts lines as an editor does
    # and keeps line breaks inside quoted cells. strict=True turns stray quotes into errors
    # instead of cells that swallow the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[FeedRow] = []
    errors: list[RowError] = []
    header: list[str] = []
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        header_errors = _check_header(header)
        if header_errors:
            return [], [RowError(1, message) for message in header_errors], False
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                row, problem = _read_row(header, cells, line, default_issuer)
                if row is not None:
                    rows.append(row)
                errors.extend(problem)
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"is not valid CSV: {exc}"))
    if not rows and not errors:
        errors.append(RowError(1, "the file has a header but no patients"))
    return rows, errors, "visit_number" in header


def _check_header(header: list[str]) -> list[str]:
    if len(header) == 1 and ";" in header[0]:
        return ["columns are separated by semicolons; save the file with commas (CSV UTF-8)"]
    problems: list[str] = []
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        problems.append(f"unknown column(s): {', '.join(map(repr, unknown))} (allowed: {allowed})")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    return problems


def _read_row(
    header: list[str], cells: list[str], line: int, default_issuer: str
) -> tuple[FeedRow | None, list[RowError]]:
    if len(cells) != len(header):
        return None, [RowError(line, f"has {len(cells)} cells; the header has {len(header)}")]
    values = dict(zip(header, cells, strict=True))
    checks = FieldChecks()
    identity = checks.identity(
        mrn=values["mrn"],
        issuer=values.get("issuer", "").strip() or default_issuer,
        family_name=values["family_name"],
        given_name=values["given_name"],
        birth_date=values["birth_date"],
        sex=values["sex"],
        visit_number=values.get("visit_number", ""),
    )
    if identity is None:
        return None, [RowError(line, problem) for problem in checks.problems]
    return FeedRow(line, identity), []


__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_csv"]
