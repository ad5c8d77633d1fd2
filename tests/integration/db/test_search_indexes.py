"""QIDO-RS at hospital scale: what the search indexes must not change, and that they are used.

StudyDate is a local date: each study holds its own (``study_date``), set with its UTC moment
and offset, and matched at the most extreme offsets too. PatientName prefixes are matched on the
folded name key without ``lower()`` (so that its index serves them), with the same answers. On
PostgreSQL, the plans of these searches read the indexes rather than the whole table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, select

from pointcare.db.models import ConsentRecord, Instance, Patient, Series, Study, User
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.identity.directory import upsert_patient
from pointcare.runtime import Runtime
from pointcare.web.dicomweb.matching import Level, parse_search
from pointcare.web.dicomweb.qido import Scope, run_search

SERVICE = "http://pointcare.test/dicomweb"
STUDIES = {
    # name: (patient, local start of the study, its offset from UTC in minutes)
    "east": ("Abcson^Anna", datetime(2024, 5, 4, 0, 30), 14 * 60),  # UTC: 3 May, 10:30
    "west": ("Abdul^Omar", datetime(2024, 5, 4, 23, 30), -12 * 60),  # UTC: 5 May, 11:30
    "next": ("Xyzberg^Karl", datetime(2024, 5, 5, 0, 10), 0),
    "far": ("Abcson^Anna", datetime(2024, 5, 3, 23, 59), 23 * 60 + 59),  # UTC: 3 May, 00:00
}


def _add_study(
    session: Any, patient: Patient, operator_id: int, name: str, local: datetime, offset: int
) -> None:
    moment = local.replace(tzinfo=timezone(timedelta(minutes=offset)))
    study = Study(
        study_instance_uid=f"2.25.{uuid.uuid4().int}",
        study_key=name,
        patient_id=patient.id,
        study_id=name.upper(),
        study_datetime=moment,
        study_tz_offset_minutes=offset,
        description=name,
    )
    session.add(study)
    session.flush()
    series = Series(
        series_instance_uid=f"2.25.{uuid.uuid4().int}",
        series_key=name,
        study_id=study.id,
        series_number=1,
    )
    consent = ConsentRecord(
        patient_id=patient.id,
        clinical_record=True,
        teaching=False,
        publication=False,
        method="verbal",
        session_key=name,
        recorded_by_id=operator_id,
    )
    session.add_all([series, consent])
    session.flush()
    sop = f"2.25.{uuid.uuid4().int}"
    session.add(
        Instance(
            sop_instance_uid=sop,
            sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
            capture_id=str(uuid.uuid4()),
            patient_id=patient.id,
            study_id=study.id,
            series_id=series.id,
            instance_number=1,
            body_site_code="14975008",
            laterality="L",
            consent_id=consent.id,
            captured_at=moment,
            captured_tz_offset_minutes=offset,
            operator_id=operator_id,
            storage_path=f"objects/{name}.dcm",
            thumbnail_path=f"thumbnails/{name}.jpg",
            size_bytes=1,
            sha256="0" * 64,
            rows=1200,
            columns=1600,
            transfer_syntax_uid="1.2.840.10008.1.2.4.50",
            source_format="JPEG",
            reencoded=False,
        )
    )


@pytest.fixture
def studies(runtime: Runtime, accounts: dict[str, Any]) -> dict[str, str]:
    """The studies of ``STUDIES``, by their description."""
    with runtime.db.write() as session:
        operator = session.scalars(select(User.id)).first()
        assert operator is not None
        patients: dict[str, Patient] = {}
        for number, (person, _local, _offset) in enumerate(STUDIES.values()):
            family, given = person.split("^")
            if person not in patients:
                patients[person], _ = upsert_patient(
                    session,
                    PatientIdentity(
                        mrn=f"IX{number:05d}",
                        issuer="TEST",
                        family_name=family,
                        given_name=given,
                        birth_date=None,
                        sex=Sex.FEMALE,
                    ),
                )
        for name, (person, local, offset) in STUDIES.items():
            _add_study(session, patients[person], operator, name, local, offset)
    return {name: name for name in STUDIES}


def found(runtime: Runtime, **keys: str) -> set[str]:
    """The descriptions of the studies a study-level search finds."""
    with runtime.db.session() as session:
        result = run_search(
            session, parse_search(list(keys.items()), Level.STUDY), Scope(), service=SERVICE
        )
    return {item["00081030"]["Value"][0] for item in result.objects}


@pytest.mark.parametrize(
    ("study_date", "expected"),
    [
        ("20240504", {"east", "west"}),  # their local day, 14 hours either side of UTC's
        ("20240503", {"far"}),  # a day before UTC's by almost a whole day
        ("20240505", {"next"}),
        ("20240504-", {"east", "west", "next"}),
        ("-20240504", {"east", "west", "far"}),
        ("20240504-20240504", {"east", "west"}),
        ("20240501-20240502", set()),
        ("20240506-", set()),
    ],
)
def test_study_dates_are_local_days_at_any_offset(
    runtime: Runtime, studies: dict[str, str], study_date: str, expected: set[str]
) -> None:
    assert found(runtime, StudyDate=study_date) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ABC*", {"east", "far"}),
        ("ab*", {"east", "far", "west"}),
        ("Ab?ul*", {"west"}),
        ("abcson^an*", {"east", "far"}),
        ("XYZBERG^KARL", {"next"}),
        ("x*^o*", set()),
        ("bc*", set()),  # prefixes, not substrings
    ],
)
def test_patient_name_prefixes_find_the_same_patients(
    runtime: Runtime, studies: dict[str, str], name: str, expected: set[str]
) -> None:
    assert found(runtime, PatientName=name) == expected


# --- The plans, on PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def plan_of(runtime: Runtime, database_backend: str) -> Iterator[Any]:
    """``plan_of(**keys)``: PostgreSQL's plan of a study search, with sequential scans made as
    costly as the planner allows: a condition an index can answer is then answered by one."""
    if database_backend != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL, the production database")
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    def plan(**keys: str) -> str:
        statements.clear()
        with runtime.db.session() as session:
            run_search(
                session, parse_search(list(keys.items()), Level.STUDY), Scope(), service=SERVICE
            )
            statement, parameters = statements[-1]
            connection = session.connection()
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            lines = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
            return "\n".join(lines)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        yield plan
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)


def test_a_patient_name_prefix_is_an_index_range(plan_of: Any, studies: dict[str, str]) -> None:
    plan = plan_of(PatientName="ABC*")
    assert "Seq Scan on patients" not in plan, plan
    assert "Index Cond: (((name_key)::text ~>=~ 'abc'" in plan, plan


def test_a_study_date_range_reads_the_study_date_index_in_the_answer_order(
    plan_of: Any, studies: dict[str, str]
) -> None:
    plan = plan_of(StudyDate="20240501-20240507", limit="100")
    assert "Seq Scan on studies" not in plan, plan
    assert "Index Scan Backward using ix_studies_study_date on studies" in plan, plan
    assert "Index Cond: ((study_date >= '2024-05-01'::date)" in plan, plan
    assert "Sort" not in plan.split("SubPlan")[0], plan  # the page stops at its last row


def test_a_study_is_dated_at_its_own_offset(runtime: Runtime, studies: dict[str, str]) -> None:
    with runtime.db.session() as session:
        rows = session.execute(select(Study.study_key, Study.study_date))
        dates = {key: day for key, day in rows}
    assert dates == {name: local.date() for name, (_p, local, _o) in STUDIES.items()}
