"""Instance numbers are handed out by one UPDATE of the series' count, run as Core."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from pointcare.capture import filing
from pointcare.db.models import Patient, Series
from pointcare.runtime import Runtime


def test_numbers_count_up_and_the_session_copy_of_the_count_stays_true(
    runtime: Runtime, demo_patients: int
) -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    with runtime.db.write() as session:
        patient = session.scalars(select(Patient).order_by(Patient.id).limit(1)).one()
        _study, series = filing.file_in_session(
            session,
            patient,
            filing.Filing(session_id="numbers", captured_at=at, operator_id=1),
            uid_root=runtime.settings.uid_root,
        )
        numbers = [filing.next_instance_number(session, series) for _ in range(3)]
        assert series.instance_count == 3
        assert series not in session.dirty  # set as read from the database, nothing to write
        series_id = series.id
    assert numbers == [1, 2, 3]
    with runtime.db.session() as session:
        assert session.get_one(Series, series_id).instance_count == 3
