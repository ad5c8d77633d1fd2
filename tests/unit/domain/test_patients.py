from __future__ import annotations

from datetime import date

import pytest

from pointcare.domain.patients import (
    PatientIdentity,
    Sex,
    age_on,
    check_identifier,
    check_name,
    person_name_from_display,
)


def identity(**changes: object) -> PatientIdentity:
    values: dict[str, object] = {
        "mrn": "PC1",
        "issuer": "PCDEMO",
        "family_name": "Öberg",
        "given_name": "Åsa",
        "birth_date": date(1950, 3, 31),
        "sex": Sex.FEMALE,
    }
    values.update(changes)
    return PatientIdentity(**values)  # type: ignore[arg-type]


def test_dicom_and_display_names() -> None:
    patient = identity()
    assert patient.dicom_name == "Öberg^Åsa"
    assert patient.display_name == "ÖBERG, Åsa"
    assert identity(given_name="").dicom_name == "Öberg^"


@pytest.mark.parametrize("bad", ["O^Brien", "A=B", "back\\slash", "bell\x07here"])
def test_names_refuse_dicom_delimiters(bad: str) -> None:
    with pytest.raises(ValueError, match="family name"):
        identity(family_name=bad)


def test_apostrophes_are_fine() -> None:
    assert identity(family_name="O'Brien").dicom_name == "O'Brien^Åsa"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "a\\b", "a\nb"])
def test_identifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="MRN"):
        check_identifier(bad, "MRN")


def test_name_whitespace_is_folded() -> None:
    assert check_name("  Van   der  Berg ", "family name") == "Van der Berg"


def test_future_birth_date_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        identity(birth_date=date(2999, 1, 1))


@pytest.mark.parametrize(
    ("raw", "sex"), [("m", Sex.MALE), ("female", Sex.FEMALE), ("", Sex.UNKNOWN)]
)
def test_sex_parse(raw: str, sex: Sex) -> None:
    assert Sex.parse(raw) is sex


def test_sex_parse_refuses() -> None:
    with pytest.raises(ValueError, match="M, F, O or U"):
        Sex.parse("Z")


def test_age_on_birthday_boundary() -> None:
    assert age_on(date(2000, 6, 15), date(2026, 6, 14)) == 25
    assert age_on(date(2000, 6, 15), date(2026, 6, 15)) == 26


@pytest.mark.parametrize(
    ("display", "pn"),
    [
        ("Nora Nurse", "Nurse^Nora"),
        ("Dr Dan Doctor", "Doctor^Dr Dan"),
        ("Öberg, Åsa", "Öberg^Åsa"),
        ("nurse", "nurse^"),
        ("A^B=C\\D", "ABCD^"),
    ],
)
def test_staff_names_become_person_names(display: str, pn: str) -> None:
    assert person_name_from_display(display) == pn
