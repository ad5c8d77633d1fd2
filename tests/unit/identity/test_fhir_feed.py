"""Reading FHIR R4 Bundles of Patient resources (no database)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pointcare.domain.patients import Sex
from pointcare.identity.feed import ImportFailed, RowError
from pointcare.identity.fhir_feed import V2_IDENTIFIER_TYPES
from pointcare.identity.importer import read_patient_feed

MR_TYPE = {"coding": [{"system": V2_IDENTIFIER_TYPES, "code": "MR"}]}


def bundle(*resources: dict[str, Any]) -> bytes:
    entries = [{"fullUrl": f"urn:uuid:{n}", "resource": r} for n, r in enumerate(resources)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def patient(**fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"type": MR_TYPE, "system": "urn:oid:1.2.752.1", "value": "A1"}],
        "name": [{"family": "Öberg", "given": ["Åsa"]}],
        "birthDate": "1957-03-14",
        "gender": "female",
    }
    resource.update(fields)
    return resource


def errors_of(data: bytes) -> list[RowError]:
    with pytest.raises(ImportFailed) as failed:
        read_patient_feed(data, default_issuer="HOSP")
    return list(failed.value.rows)


def test_a_patient_resource_becomes_an_identity() -> None:
    feed = read_patient_feed(bundle(patient()), default_issuer="HOSP")
    assert feed.format == "fhir"
    assert not feed.carries_visits
    (row,) = feed.rows
    assert row.location == "entry 1"
    identity = row.identity
    assert (identity.mrn, identity.issuer) == ("A1", "1.2.752.1")
    assert (identity.family_name, identity.given_name) == ("Öberg", "Åsa")
    assert identity.birth_date == date(1957, 3, 14)
    assert identity.sex is Sex.FEMALE


def test_the_identifier_typed_mr_is_the_mrn_and_old_ones_are_skipped() -> None:
    identifiers = [
        {"system": "urn:oid:1.2.752.129.2.1.3.1", "value": "19570314-1234"},  # national ID
        {"type": MR_TYPE, "system": "https://hospital.example/mrn", "value": "OLD1", "use": "old"},
        {"type": MR_TYPE, "system": "https://hospital.example/mrn", "value": "A2"},
    ]
    (row,) = read_patient_feed(bundle(patient(identifier=identifiers)), default_issuer="H").rows
    assert (row.identity.mrn, row.identity.issuer) == ("A2", "https://hospital.example/mrn")


def test_a_single_untyped_identifier_without_system_takes_the_default_issuer() -> None:
    resource = patient(identifier=[{"value": "A3"}])
    (row,) = read_patient_feed(bundle(resource), default_issuer="HOSP").rows
    assert (row.identity.mrn, row.identity.issuer) == ("A3", "HOSP")


def test_several_untyped_identifiers_are_ambiguous() -> None:
    resource = patient(identifier=[{"system": "a", "value": "1"}, {"system": "b", "value": "2"}])
    (error,) = errors_of(bundle(resource))
    assert error == RowError(
        1, "has 2 identifiers and none is typed MR; cannot tell the MRN", "entry"
    )


def test_the_official_name_wins_and_given_names_are_joined() -> None:
    names = [
        {"use": "nickname", "family": "Nick"},
        {"use": "official", "family": "Nguyễn", "given": ["Thị", "Minh Anh"]},
    ]
    (row,) = read_patient_feed(bundle(patient(name=names)), default_issuer="H").rows
    assert (row.identity.family_name, row.identity.given_name) == ("Nguyễn", "Thị Minh Anh")


@pytest.mark.parametrize(
    ("gender", "sex"), [("male", Sex.MALE), ("other", Sex.OTHER), ("unknown", Sex.UNKNOWN)]
)
def test_gender_maps_to_dicom_sex(gender: str, sex: Sex) -> None:
    (row,) = read_patient_feed(bundle(patient(gender=gender)), default_issuer="H").rows
    assert row.identity.sex is sex


def test_problems_are_reported_by_entry_number() -> None:
    observation = {"resourceType": "Observation", "status": "final"}
    data = bundle(
        patient(),
        observation,
        patient(identifier=[{"value": "B1"}], birthDate="1980", gender="f"),
        patient(identifier=[], name=[]),
        patient(identifier=[{"system": "https://example.org/" + "x" * 60, "value": "C1"}]),
    )
    errors = errors_of(data)
    assert [str(error) for error in errors] == [
        "entry 2: is a 'Observation' resource; only Patient resources can be imported",
        "entry 3: gender 'f' is not one of male, female, other, unknown",
        "entry 3: birth date '1980' is not a date in the form YYYY-MM-DD",
        "entry 4: has no identifier",
        "entry 4: has no name",
        f"entry 5: identifier system 'https://example.org/{'x' * 60}' is longer than 64"
        " characters and cannot serve as the issuer",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"resourceType": "Patient"}, "expected a FHIR Bundle of Patient resources, got 'Patient'"),
        ([], "expected a FHIR Bundle of Patient resources, got 'list'"),
        ({"resourceType": "Bundle", "entry": []}, "the Bundle has no entries"),
    ],
)
def test_the_document_must_be_a_bundle_with_entries(document: Any, message: str) -> None:
    assert errors_of(json.dumps(document).encode()) == [RowError(1, message)]


def test_invalid_json_is_reported_at_its_line() -> None:
    (error,) = errors_of(b'{\n  "resourceType": "Bundle",\n  "entry": [,]\n}')
    assert error.line == 3
    assert error.message.startswith("is not valid JSON")
