"""The patient directory against a real (SQLite) database, seeded with the demo patients."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.models import Patient
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.errors import Conflict, InvalidInput
from pointcare.identity import directory
from pointcare.identity.demo import DEMO_ISSUER, DEMO_PATIENTS, WRISTBAND_DEMO, seed_demo
from pointcare.identity.directory import (
    Change,
    find_by_mrn,
    identity_of,
    record_patient,
    same_name_exists,
    search,
    upsert_patient,
)


def mrns(patients: list[Patient]) -> list[str]:
    return [p.mrn for p in patients]


def identity(mrn: str = "X1", **fields: object) -> PatientIdentity:
    base = PatientIdentity(
        mrn=mrn,
        issuer="HOSP",
        family_name="Öberg",
        given_name="Åsa",
        birth_date=date(1957, 3, 14),
        sex=Sex.FEMALE,
        visit_number="V1",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


# --- Search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Öberg", "oberg", "OBERG", "Obe", "öberg åsa", "asa oberg", "ÖBERG, Åsa"]
)
def test_search_finds_oberg_with_or_without_accents(session: Session, query: str) -> None:
    assert mrns(search(session, name=query)) == ["PC100001"]


@pytest.mark.parametrize(
    "query", ["O'Brien", "OBrien", "o brien", "O’Brien", "obrien sean", "Sean O'Brien"]
)
def test_search_finds_obrien_however_the_apostrophe_is_typed(session: Session, query: str) -> None:
    assert mrns(search(session, name=query)) == ["PC100003"]


@pytest.mark.parametrize(
    ("query", "mrn"),
    [
        ("angstrom zoe", "PC100002"),
        ("Wojcik Lukasz", "PC100006"),
        ("celik", "PC100007"),
        ("ÇELİK", "PC100007"),
        ("nguyen thi", "PC100008"),
        ("Lindqvist-Nilsson", "PC100009"),
        ("lindqvist nilsson maja", "PC100009"),
        ("garcia marquez jose", "PC100011"),
        ("sorensen", "PC100012"),
        ("Strauss", "PC100013"),
        ("tran duc", None),  # given names match from their start only
        ("tran van", "PC100018"),
    ],
)
def test_search_across_alphabets(session: Session, query: str, mrn: str | None) -> None:
    assert mrns(search(session, name=query)) == ([mrn] if mrn else [])


def test_a_prefix_finds_every_match_ordered_by_name_then_birth_date(session: Session) -> None:
    assert mrns(search(session, name="and")) == ["PC100004", "PC100005"]
    assert mrns(search(session, name="and", limit=1)) == ["PC100004"]


def test_search_by_birth_date_alone_and_with_a_name(session: Session) -> None:
    assert mrns(search(session, birth_date=date(1985, 1, 23))) == ["PC100005"]
    assert mrns(search(session, name="andersson eva", birth_date=date(1962, 5, 9))) == ["PC100004"]
    assert search(session, name="oberg", birth_date=date(1962, 5, 9)) == []


@pytest.mark.parametrize("query", ["_brien", "%berg", "o_rien", "%ngstr%"])
def test_like_metacharacters_in_a_query_are_not_wildcards(session: Session, query: str) -> None:
    # As wildcards, these would match O'Brien, Öberg, O'Brien and Ångström.
    assert search(session, name=query) == []


@pytest.mark.parametrize("query", ["%", "_", "%_%"])
def test_a_query_of_wildcards_alone_is_refused_not_a_match_all(
    session: Session, query: str
) -> None:
    with pytest.raises(InvalidInput, match="no letters or digits"):
        search(session, name=query, birth_date=date(1957, 3, 14))


def test_a_patient_whose_name_has_an_underscore_is_not_a_wildcard_either(db: Database) -> None:
    with db.write() as writer:
        upsert_patient(writer, identity("U1", family_name="Ab_c", given_name="D"))
        upsert_patient(writer, identity("U2", family_name="Abxc", given_name="D"))
    with db.session() as reader:
        assert mrns(search(reader, name="ab_c")) == ["U1"]


@pytest.mark.parametrize("kwargs", [{}, {"name": "  "}, {"name": None, "birth_date": None}])
def test_search_needs_a_criterion(session: Session, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="name, a birth date or both"):
        search(session, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, 101])
def test_search_limit_is_bounded(session: Session, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        search(session, name="a", limit=limit)


# --- By MRN ----------------------------------------------------------------------------------


def test_find_by_mrn_with_and_without_issuer(session: Session) -> None:
    found = find_by_mrn(session, " PC100003 ")
    assert found is not None
    assert found.family_name == "O'Brien"
    assert find_by_mrn(session, "PC100003", DEMO_ISSUER) is found
    assert find_by_mrn(session, "PC100003", " ") is found  # a blank issuer is no issuer
    assert find_by_mrn(session, "PC100003", "ELSEWHERE") is None
    assert find_by_mrn(session, "NOPE") is None


def test_an_mrn_held_by_two_issuers_needs_the_issuer(db: Database) -> None:
    with db.write() as writer:
        upsert_patient(writer, identity("M1", issuer="NORTH"))
        upsert_patient(writer, identity("M1", issuer="SOUTH", family_name="Other"))
    with db.session() as reader:
        with pytest.raises(Conflict, match=r"several issuers \(NORTH, SOUTH\)"):
            find_by_mrn(reader, "M1")
        south = find_by_mrn(reader, "M1", "SOUTH")
        assert south is not None
        assert south.family_name == "Other"


def test_find_by_mrn_refuses_an_empty_mrn(session: Session) -> None:
    with pytest.raises(InvalidInput, match="MRN is empty"):
        find_by_mrn(session, "  ")


# --- Recording -------------------------------------------------------------------------------


def test_upsert_creates_then_updates_by_issuer_and_mrn(db: Database) -> None:
    with db.write() as writer:
        patient, created = upsert_patient(writer, identity())
        assert created
        first_id = patient.id
    with db.write() as writer:
        moved = identity(family_name="Öberg Lind", birth_date=date(1957, 3, 15), sex=Sex.OTHER)
        patient, created = upsert_patient(writer, replace(moved, visit_number=None))
        assert not created
        assert patient.id == first_id
    with db.session() as reader:
        stored = find_by_mrn(reader, "X1", "HOSP")
        assert stored is not None
        assert identity_of(stored) == replace(moved, visit_number=None)
        assert stored.name_key == "oberglind asa"


def test_record_patient_tells_unchanged_from_updated(db: Database) -> None:
    with db.write() as writer:
        assert record_patient(writer, identity())[1] is Change.CREATED
        assert record_patient(writer, identity())[1] is Change.UNCHANGED
        assert record_patient(writer, identity(visit_number=None), keep_visit_number=True)[1] is (
            Change.UNCHANGED
        )
        patient, change = record_patient(writer, identity(visit_number="V2"))
        assert change is Change.UPDATED
        assert patient.visit_number == "V2"


def test_names_are_stored_in_nfc_with_single_spaces(db: Database) -> None:
    decomposed = unicodedata.normalize("NFD", "Öberg")
    with db.write() as writer:
        patient, _ = upsert_patient(
            writer, identity(mrn=" X2 ", family_name=f" {decomposed}  Lind ", visit_number=" V3 ")
        )
        assert patient.mrn == "X2"
        assert patient.family_name == "Öberg Lind"
        assert patient.visit_number == "V3"


def test_losing_an_insert_race_updates_the_winner(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL two requests can both see no patient and both insert; the loser updates."""
    with db.write() as writer:
        upsert_patient(writer, identity())
    lookup = directory._by_issuer_and_mrn
    calls: list[str] = []

    def stale_first_lookup(session: Session, issuer: str, mrn: str) -> Patient | None:
        calls.append(mrn)
        return None if len(calls) == 1 else lookup(session, issuer, mrn)

    monkeypatch.setattr(directory, "_by_issuer_and_mrn", stale_first_lookup)
    with db.write() as writer:
        patient, created = upsert_patient(writer, identity(given_name="Asa"))
        assert not created
        assert patient.given_name == "Asa"
    with db.session() as reader:
        assert reader.scalar(select(func.count()).select_from(Patient)) == 1


# --- Look-alikes and demo data ---------------------------------------------------------------


def test_same_name_exists_for_the_two_anderssons_only(session: Session) -> None:
    first, second = search(session, name="andersson, eva")
    assert first.birth_date != second.birth_date
    assert same_name_exists(session, first)
    assert same_name_exists(session, second)
    oberg = find_by_mrn(session, "PC100001")
    assert oberg is not None
    assert not same_name_exists(session, oberg)


def test_seed_demo_is_idempotent(demo_db: Database) -> None:
    with demo_db.write() as writer:
        assert seed_demo(writer) == len(DEMO_PATIENTS)
    with demo_db.session() as reader:
        assert reader.scalar(select(func.count()).select_from(Patient)) == len(DEMO_PATIENTS)
        stored = {p.mrn: identity_of(p) for p in reader.scalars(select(Patient))}
    assert stored == {p.mrn: p for p in DEMO_PATIENTS}


def test_demo_data_covers_what_it_promises() -> None:
    sexes = {p.sex for p in DEMO_PATIENTS}
    assert sexes == set(Sex)
    assert len({p.mrn for p in DEMO_PATIENTS}) == len(DEMO_PATIENTS)
    assert any("'" in p.family_name for p in DEMO_PATIENTS)
    assert any("-" in p.family_name for p in DEMO_PATIENTS)
    assert sum(p.visit_number is not None for p in DEMO_PATIENTS) > len(DEMO_PATIENTS) // 2
    assert all(p.mrn.isascii() and p.mrn.isalnum() for p in WRISTBAND_DEMO)
    assert {"PC100004", "PC100005"} <= {p.mrn for p in WRISTBAND_DEMO}
