"""What a patient file becomes once read: identities with the place they came from, or errors.

Shared by the CSV and FHIR readers so that both validate fields the same way and report problems
in the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

from pointcare.domain.patients import PatientIdentity, Sex, check_identifier, check_name
from pointcare.errors import InvalidInput

Unit = Literal["line", "entry"]
"""Where a row is: a line of a CSV or JSON file (header is line 1), or a FHIR Bundle entry."""

ERRORS_IN_DETAIL = 5
"""How many row errors the one-line ``detail`` of ``ImportFailed`` quotes; ``rows`` has all."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    """1-based line (``unit`` "line") or entry number (``unit`` "entry")."""
    message: str
    unit: Unit = "line"

    @property
    def location(self) -> str:
        return f"{self.unit} {self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class FeedRow:
    line: int
    identity: PatientIdentity
    unit: Unit = "line"

    @property
    def location(self) -> str:
        return f"{self.unit} {self.line}"


@dataclass(frozen=True, slots=True)
class PatientFeed:
    """A patient file read and validated in full."""

    format: Literal["csv", "fhir"]
    rows: tuple[FeedRow, ...]
    carries_visits: bool
    """False when the file has no way to give a visit number (so stored visits are kept)."""


class ImportFailed(InvalidInput):
    """The file has problems; nothing was imported. ``rows`` lists every problem found."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.rows: tuple[RowError, ...] = tuple(errors)
        quoted = "; ".join(str(error) for error in self.rows[:ERRORS_IN_DETAIL])
        more = len(self.rows) - ERRORS_IN_DETAIL
        count = f"{len(self.rows)} problem{'s' if len(self.rows) != 1 else ''}"
        detail = f"Nothing was imported: {count} in the file. {quoted}"
        if more > 0:
            detail += f"; and {more} more"
        by_location: dict[str, list[str]] = {}
        for error in self.rows:
            by_location.setdefault(error.location, []).append(error.message)
        super().__init__(detail, errors={k: "; ".join(v) for k, v in by_location.items()})


# --- Field rules shared by the readers ------------------------------------------------------

T = TypeVar("T")


class FieldChecks:
    """Collects the problems of one row, so that a row reports all of them at once."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, rule: Callable[[str], T], raw: str | None) -> T | None:
        if raw is None:
            return None
        try:
            return rule(raw)
        except ValueError as exc:
            self.problems.append(str(exc))
            return None

    def identity(
        self,
        *,
        mrn: str | None,
        issuer: str | None,
        family_name: str | None,
        given_name: str | None,
        birth_date: str | None,
        sex: str | None,
        visit_number: str | None = "",
    ) -> PatientIdentity | None:
        """The identity these raw fields make, or None with ``problems`` filled in.

        A None field is one whose problem the reader has already reported (absent from the
        structure it reads); it is not checked again.
        """
        checked_mrn = self.check(lambda v: check_identifier(v, "MRN"), mrn)
        checked_issuer = self.check(lambda v: check_identifier(v, "issuer"), issuer)
        family = self.check(lambda v: check_name(v, "family name"), family_name)
        given = self.check(lambda v: check_name(v, "given name") if v.strip() else "", given_name)
        born = self.check(parse_birth_date, birth_date)
        parsed_sex = self.check(Sex.parse, sex)
        visit = self.check(
            lambda v: check_identifier(v, "visit number") if v.strip() else "", visit_number
        )
        if (
            self.problems
            or checked_mrn is None
            or checked_issuer is None
            or family is None
            or given is None
            or parsed_sex is None
        ):
            return None
        try:
            return PatientIdentity(
                mrn=checked_mrn,
                issuer=checked_issuer,
                family_name=family,
                given_name=given,
                birth_date=born,
                sex=parsed_sex,
                visit_number=visit or None,
            )
        except ValueError as exc:  # rules across fields, such as a birth date in the future
            self.problems.append(str(exc))
            return None


def parse_birth_date(raw: str) -> date | None:
    """A full ISO date (YYYY-MM-DD), or None for an empty value (birth date unknown)."""
    value = raw.strip()
    if not value:
        return None
    # date.fromisoformat alone would also take "19800101" and week dates: be strict.
    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"birth date {raw!r} is not a date in the form YYYY-MM-DD")


__all__ = [
    "ERRORS_IN_DETAIL",
    "FeedRow",
    "FieldChecks",
    "ImportFailed",
    "PatientFeed",
    "RowError",
    "Unit",
    "parse_birth_date",
]
