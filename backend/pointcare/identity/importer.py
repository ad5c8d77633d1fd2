"""``pointcare patients import FILE``: load a directory extract, all or nothing.

The file (UTF-8, a byte-order mark tolerated) is a CSV (see ``csv_feed``) or a FHIR R4 Bundle of
Patient resources (see ``fhir_feed``), told apart by its first character. Every row is validated
before anything is written; one bad row fails the import with ``ImportFailed`` listing every
problem by line (CSV, and JSON syntax errors) or entry (FHIR). The same (issuer, MRN) twice in one
file is a problem too: which of the two rows is right is for a person to decide.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from pointcare.domain.patients import check_identifier
from pointcare.errors import InvalidInput
from pointcare.identity.csv_feed import read_csv
from pointcare.identity.directory import Change, record_patient
from pointcare.identity.feed import FeedRow, ImportFailed, PatientFeed, RowError
from pointcare.identity.fhir_feed import read_fhir_bundle


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int = 0


def import_patients(session: Session, path: Path, *, default_issuer: str) -> ImportReport:
    """Validate the whole file, then create or update every patient in it.

    Writes are flushed, not committed: call it inside ``Database.write()`` so that the whole file
    is one transaction. ``default_issuer`` applies to rows that name none.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return save_patient_feed(session, read_patient_feed(data, default_issuer=default_issuer))


def read_patient_feed(data: bytes, *, default_issuer: str) -> PatientFeed:
    """The validated content of a patient file; raises ``ImportFailed`` on any problem."""
    try:
        issuer = check_identifier(default_issuer, "default issuer")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    text = _decode(data)
    if not text.strip():
        raise ImportFailed([RowError(1, "the file is empty")])
    if text.lstrip()[0] in "{[":
        rows, errors = read_fhir_bundle(text, default_issuer=issuer)
        feed = PatientFeed(format="fhir", rows=tuple(rows), carries_visits=False)
    else:
        rows, errors, carries_visits = read_csv(text, default_issuer=issuer)
        feed = PatientFeed(format="csv", rows=tuple(rows), carries_visits=carries_visits)
    errors = sorted([*errors, *_repeated_patients(feed.rows)], key=lambda e: e.line)
    if errors:
        raise ImportFailed(errors)
    return feed


def save_patient_feed(session: Session, feed: PatientFeed) -> ImportReport:
    counts = dict.fromkeys(Change, 0)
    for row in feed.rows:
        _patient, change = record_patient(
            session, row.identity, keep_visit_number=not feed.carries_visits
        )
        counts[change] += 1
    session.flush()
    return ImportReport(
        created=counts[Change.CREATED],
        updated=counts[Change.UPDATED],
        unchanged=counts[Change.UNCHANGED],
    )


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFailed([RowError(1, "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8)")])
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        # Offsets count from after the BOM; a BOM holds no newline, so lines are unaffected.
        body = data.removeprefix(codecs.BOM_UTF8)
        line = body.count(b"\n", 0, exc.start) + 1
        message = (
            f"is not UTF-8 text (byte 0x{body[exc.start]:02X}); save the file as UTF-8"
            " (in Excel: CSV UTF-8)"
        )
        raise ImportFailed([RowError(line, message)]) from None


def _repeated_patients(rows: tuple[FeedRow, ...]) -> list[RowError]:
    first_seen: dict[tuple[str, str], FeedRow] = {}
    errors: list[RowError] = []
    for row in rows:
        key = (row.identity.issuer, row.identity.mrn)
        earlier = first_seen.setdefault(key, row)
        if earlier is not row:
            message = f"MRN {key[1]} (issuer {key[0]}) is already on {earlier.location}"
            errors.append(RowError(row.line, message, row.unit))
    return errors


__all__ = [
    "ImportFailed",
    "ImportReport",
    "RowError",
    "import_patients",
    "read_patient_feed",
    "save_patient_feed",
]
