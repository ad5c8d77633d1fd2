"""Capture fields, as the API and the pages send them, checked into a capture command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointcare.capture.command import CaptureCommand, ConfirmedPatient, Source
from pointcare.capture.fields import CaptureFields, read_command
from pointcare.domain.body_sites import Laterality
from pointcare.domain.clock import TakenAtSource
from pointcare.domain.consent import ConsentMethod
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View
from pointcare.errors import ConsentRequired, InvalidInput
from tests.support.consent import CLINICAL_ONLY

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def raw(**changes: str | None) -> CaptureFields:
    values: dict[str, str | None] = {
        "patient_id": "PC100001",
        "body_site": "14975008",
        "laterality": "L",
        **CLINICAL_ONLY,
    }
    values.update(changes)
    return CaptureFields(**values)  # type: ignore[arg-type]


def photo(fields: CaptureFields, **kwargs: object) -> CaptureCommand:
    return read_command(fields, kind=ObjectKind.PHOTO, source=Source.API, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_minimal_submission() -> None:
    command = photo(raw())
    assert command.patient == ConfirmedPatient(mrn="PC100001")
    assert command.tags is not None
    assert command.tags.site.meaning == "Forearm"
    assert command.tags.laterality is Laterality.LEFT
    assert command.tags.view is None
    assert command.consent is not None
    assert command.consent.clinical_record and not command.consent.teaching
    assert command.consent.method is ConsentMethod.VERBAL
    assert command.taken is None  # from the photo itself, else when it arrives
    assert len(command.capture_id) == 36
    assert not command.allow_duplicate


def test_full_submission_keeps_offset_and_says_where_the_time_came_from() -> None:
    command = photo(
        raw(
            view="close-up",
            description="  wound   edge ",
            consent_teaching="yes",
            consent_publication="no",
            consent_method="written",
            sensitive="on",
            capture_id="0F8FAD5B-D9CB-469F-A165-70867728950E",
            captured_at="2026-05-04T11:15:00+02:00",
            captured_at_source="file",
            session_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
            allow_duplicate="true",
        )
    )
    assert command.tags is not None and command.consent is not None and command.taken is not None
    assert command.tags.view is View.CLOSE_UP
    assert command.tags.description == "wound edge"
    assert command.consent.teaching and not command.consent.publication
    assert command.tags.sensitive
    assert command.capture_id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert command.taken.moment.utcoffset() == timedelta(hours=2)
    assert command.taken.source is TakenAtSource.FILE
    assert command.session_id == "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    assert command.allow_duplicate


def test_a_client_time_is_the_device_s_unless_it_says_otherwise() -> None:
    command = photo(raw(captured_at="2026-05-04T11:15:00+02:00"))
    assert command.taken is not None and command.taken.source is TakenAtSource.DEVICE
    with pytest.raises(InvalidInput) as caught:
        photo(raw(captured_at="2026-05-04T11:15:00+02:00", captured_at_source="server"))
    assert "captured_at" in caught.value.errors


def test_intimate_site_is_always_sensitive() -> None:
    command = photo(raw(body_site="38864007", laterality=None, sensitive="false"))
    assert command.tags is not None and command.tags.sensitive


def test_face_is_recognizable_unless_said_otherwise() -> None:
    face = photo(raw(body_site="89545001", laterality=None))
    assert face.tags is not None and face.tags.recognizable
    told = photo(raw(body_site="89545001", laterality=None, recognizable="false"))
    assert told.tags is not None and not told.tags.recognizable


@pytest.mark.parametrize(
    "question", ["consent_clinical", "consent_teaching", "consent_publication", "consent_method"]
)
def test_no_consent_question_is_answered_for_the_user(question: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        photo(raw(**{question: None}))
    assert set(caught.value.errors) == {question}
    with pytest.raises(InvalidInput):
        photo(raw(**{question: ""}))


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        photo(
            raw(
                patient_id=" ",
                body_site="999",
                view="panorama",
                consent_teaching="maybe",
                capture_id="not-a-uuid",
                captured_at="yesterday",
            )
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
        photo(raw(captured_at=captured_at))


def test_a_slightly_fast_phone_clock_is_accepted() -> None:
    ahead = (NOW + timedelta(minutes=3)).astimezone(timezone(timedelta(hours=1))).isoformat()
    command = photo(raw(captured_at=ahead))
    assert command.taken is not None and command.taken.moment == NOW + timedelta(minutes=3)


def test_paired_site_without_side_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        photo(raw(laterality=None))
    assert "laterality" in caught.value.errors


def test_declined_clinical_consent_blocks_storage() -> None:
    with pytest.raises(ConsentRequired, match="clinical record"):
        photo(raw(consent_clinical="no"))


def test_best_interests_cannot_cover_teaching() -> None:
    with pytest.raises(InvalidInput) as caught:
        photo(raw(consent_method="best interests", consent_teaching="yes"))
    assert "consent_teaching" in caught.value.errors


def test_description_length_limit() -> None:
    with pytest.raises(InvalidInput, match="description"):
        photo(raw(description="x" * 1025))


def test_what_a_way_in_knows_stands_for_the_fields() -> None:
    command = photo(
        raw(patient_id="PC100009", session_id=None, consent_clinical=None),
        patient=ConfirmedPatient(mrn="PC100001", issuer="PCDEMO"),
        consent_record=(7, photo(raw()).consent),
        session_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
    )
    assert command.patient.mrn == "PC100001"
    assert command.consent_record_id == 7
    assert command.session_id == "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_a_document_needs_a_title_and_its_own_capture_id() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_command(
            CaptureFields(patient_id="PC100001", title=" "),
            kind=ObjectKind.DOCUMENT,
            source=Source.API,
            now=NOW,
        )
    assert set(caught.value.errors) == {"title", "capture_id"}


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
                "captured_at_source",
                "session_id",
                "allow_duplicate",
            )
        },
    )
)
def test_any_input_is_accepted_or_refused_cleanly(fields: dict[str, str | None]) -> None:
    try:
        photo(CaptureFields(**fields))  # type: ignore[arg-type]
    except (InvalidInput, ConsentRequired) as exc:
        assert exc.detail


@pytest.mark.parametrize(("sent", "kept"), [(None, None), ("", None), (" 12 ", 12)])
def test_the_finding_a_photo_is_filed_under(sent: str | None, kept: int | None) -> None:
    assert photo(raw(finding=sent)).finding_id == kept


@pytest.mark.parametrize("sent", ["0", "-3", "wound 1", "1.5", str(2**31)])
def test_a_finding_that_cannot_be_a_findings_id_is_refused(sent: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        photo(raw(finding=sent))
    assert "finding" in refused.value.errors
