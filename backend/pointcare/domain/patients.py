"""Patient identity as the clinic knows it, and the rules a record must satisfy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Sex(StrEnum):
    """Administrative sex, coded as in DICOM Patient's Sex (0010,0040) plus unknown."""

    MALE = "M"
    FEMALE = "F"
    OTHER = "O"
    UNKNOWN = "U"

    @classmethod
    def parse(cls, raw: str) -> Sex:
        value = raw.strip().upper()
        aliases = {"MALE": "M", "FEMALE": "F", "OTHER": "O", "UNKNOWN": "U", "": "U"}
        value = aliases.get(value, value)
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"sex must be one of M, F, O or U, got {raw!r}") from None

    @property
    def label(self) -> str:
        return {"M": "Male", "F": "Female", "O": "Other", "U": "Unknown"}[self.value]

    @property
    def dicom_value(self) -> str:
        """Patient's Sex (0010,0040): DICOM has no code for unknown, it leaves the value empty."""
        return "" if self is Sex.UNKNOWN else self.value


_FORBIDDEN_IN_NAMES = re.compile(r"[\\^=\x00-\x1f\x7f]")
_FORBIDDEN_IN_IDS = re.compile(r"[\\\x00-\x1f\x7f]")
MAX_ID_LENGTH = 64
"""DICOM LO: Patient ID, Issuer of Patient ID and Admission ID hold at most 64 characters."""
MAX_NAME_COMPONENT_LENGTH = 64


def check_identifier(value: str, what: str) -> str:
    """Return ``value`` stripped, or raise ``ValueError`` naming ``what`` when it is unusable."""
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"{what} is empty")
    if len(cleaned) > MAX_ID_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_ID_LENGTH} characters")
    if _FORBIDDEN_IN_IDS.search(cleaned):
        raise ValueError(f"{what} contains a backslash or a control character")
    return cleaned


def check_name(value: str, what: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError(f"{what} is empty")
    if len(cleaned) > MAX_NAME_COMPONENT_LENGTH:
        raise ValueError(f"{what} is longer than {MAX_NAME_COMPONENT_LENGTH} characters")
    if _FORBIDDEN_IN_NAMES.search(cleaned):
        raise ValueError(f"{what} contains one of the characters \\ ^ = or a control character")
    return cleaned


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientIdentity:
    """Who the photos belong to: what the DICOM Patient module and the patient banner show."""

    mrn: str
    issuer: str
    family_name: str
    given_name: str
    birth_date: date | None
    sex: Sex
    visit_number: str | None = None

    def __post_init__(self) -> None:
        check_identifier(self.mrn, "MRN")
        check_identifier(self.issuer, "issuer")
        check_name(self.family_name, "family name")
        if self.given_name:
            check_name(self.given_name, "given name")
        if self.visit_number is not None:
            check_identifier(self.visit_number, "visit number")
        if self.birth_date is not None and self.birth_date > date.today():
            raise ValueError("birth date is in the future")

    @property
    def dicom_name(self) -> str:
        """Person Name in DICOM form: ``Family^Given``."""
        return person_name(self.family_name, self.given_name)

    @property
    def display_name(self) -> str:
        """Banner form: family name in capitals, then given name."""
        return f"{self.family_name.upper()}, {self.given_name}".rstrip(", ")


def person_name(family: str, given: str = "") -> str:
    """A DICOM PN value. The component delimiter is always written: a value without one is
    the retired free-text form that validators flag (``Nurse`` reads as "Nurse", not a family)."""
    return f"{family}^{given}"


def person_name_from_display(display: str) -> str:
    """A PN for a free-text staff name: ``Family, Given`` as written, else the last word is the
    family name (``Nora Nurse`` -> ``Nurse^Nora``). DICOM delimiters in the text are dropped."""
    cleaned = " ".join("".join(ch for ch in display if ch not in "\\^=").split())
    if "," in cleaned:
        family, _, given = cleaned.partition(",")
        return person_name(family.strip(), given.strip())
    words = cleaned.split(" ")
    return person_name(words[-1], " ".join(words[:-1]))


def age_on(birth_date: date, today: date) -> int:
    """Completed years between ``birth_date`` and ``today``."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
