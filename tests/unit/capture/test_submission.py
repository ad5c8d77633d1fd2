from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointcare.capture.submission import RawSubmission, check_submission
from pointcare.domain.body_sites import Laterality
from pointcare.domain.consent import ConsentMethod
from pointcare.domain.views import View
from pointcare.errors import ConsentRequired, InvalidInput

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def raw(**changes: str | None) -> RawSubmission:
    values: dict[str, str | None] = {
        "patient_id": "PC100001",
        "body_site": "14975008",
        "laterality": "L",
    }
    values.update(changes)
    return RawSubmission(**values)  # type: ignore[arg-type]


def test_minimal_submission() -> None:
    request = check_submission(raw(), now=NOW)
    assert request.patient_mrn == "PC100001"
    assert request.site.meaning == "Forearm"
    assert request.laterality is Laterality.LEFT
    assert request.view is None
    assert request.consent.clinical_record and not request.consent.teaching
    assert request.consent.method is ConsentMethod.VERBAL
    assert request.captured_at == NOW
    assert len(request.capture_id) == 36


def test_full_submission_keeps_offset() -> None:
    request = check_submission(
        raw(
            view="close-up",
            description="  wound   edge ",
            consent_teaching="true",
            consent_publication="no",
            consent_method="written",
            sensitive="on",
            capture_id="0F8FAD5B-D9CB-469F-A165-70867728950E",
            captured_at="2026-05-04T11:15:00+02:00",
            session_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
        ),
        now=NOW,
    )
    assert request.view is View.CLOSE_UP
    assert request.description == "wound edge"
    assert request.consent.teaching and not request.consent.publication
    assert request.sensitive
    assert request.capture_id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert request.captured_at.utcoffset() == timedelta(hours=2)
    assert request.session_id == "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_intimate_site_is_always_sensitive() -> None:
    assert check_submission(
        raw(body_site="38864007", laterality=None, sensitive="false"), now=NOW
    ).sensitive


def test_face_is_recognizable_unless_said_otherwise() -> None:
    assert check_submission(raw(body_site="89545001", laterality=None), now=NOW).recognizable
    assert not check_submission(
        raw(body_site="89545001", laterality=None, recognizable="false"), now=NOW
    ).recognizable


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_submission(
            raw(
                patient_id=" ",
                body_site="999",
                view="panorama",
                consent_teaching="maybe",
                capture_id="not-a-uuid",
                captured_at="yesterday",
            ),
            now=NOW,
        )
    assert set(caught.value.errors) == {
        "patient_id",
        "body_site",
        "view",
        "consent_teaching",
        "capture_id",
        "captured_at",
    }


@pytest.mark.parametrize(
    ("captured_at", "message"),
    [
        ("2026-05-04T10:00:00", "UTC offset"),
        ("2026-05-05T10:00:00+00:00", "future"),
        ("1890-01-01T00:00:00+00:00", "implausibly old"),
        ("2026-13-01T00:00:00+00:00", "ISO 8601"),
    ],
)
def test_bad_capture_times(captured_at: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_submission(raw(captured_at=captured_at), now=NOW)


def test_a_slightly_fast_phone_clock_is_accepted() -> None:
    ahead = (NOW + timedelta(minutes=3)).astimezone(timezone(timedelta(hours=1))).isoformat()
    assert check_submission(raw(captured_at=ahead), now=NOW).captured_at == NOW + timedelta(
        minutes=3
    )


def test_paired_site_without_side_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_submission(raw(laterality=None), now=NOW)
    assert "laterality" in caught.value.errors


def test_declined_clinical_consent_blocks_storage() -> None:
    with pytest.raises(ConsentRequired, match="clinical record"):
        check_submission(raw(consent_clinical="false"), now=NOW)


def test_best_interests_cannot_cover_teaching() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_submission(raw(consent_method="best interests", consent_teaching="true"), now=NOW)
    assert "consent_method" in caught.value.errors


def test_description_length_limit() -> None:
    with pytest.raises(InvalidInput, match="description"):
        check_submission(raw(description="x" * 1025), now=NOW)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(st.none(), st.text(max_size=40))
            for name in (
                "patient_id",
                "body_site",
                "laterality",
                "view",
                "description",
                "consent_clinical",
                "consent_teaching",
                "consent_publication",
                "consent_method",
                "sensitive",
                "recognizable",
                "capture_id",
                "captured_at",
                "session_id",
            )
        },
    )
)
def test_any_input_is_accepted_or_refused_cleanly(fields: dict[str, str | None]) -> None:
    try:
        check_submission(RawSubmission(**fields), now=NOW)  # type: ignore[arg-type]
    except (InvalidInput, ConsentRequired) as exc:
        assert exc.detail
