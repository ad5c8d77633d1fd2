from __future__ import annotations

import pytest

from pointcare.domain.consent import Consent, ConsentMethod, ConsentNotGiven, DistributionType
from pointcare.domain.views import View


def test_no_clinical_consent_blocks_capture() -> None:
    with pytest.raises(ConsentNotGiven, match="clinical record"):
        Consent(
            clinical_record=False, teaching=True, publication=False, method=ConsentMethod.VERBAL
        )


def test_best_interests_covers_the_record_only() -> None:
    Consent(
        clinical_record=True, teaching=False, publication=False, method=ConsentMethod.BEST_INTERESTS
    )
    with pytest.raises(ValueError, match="best interests"):
        Consent(
            clinical_record=True,
            teaching=True,
            publication=False,
            method=ConsentMethod.BEST_INTERESTS,
        )


def test_dicom_items_carry_both_reuse_scopes() -> None:
    consent = Consent(
        clinical_record=True, teaching=True, publication=False, method=ConsentMethod.WRITTEN
    )
    assert consent.dicom_items() == [
        (DistributionType.TEACHING, True),
        (DistributionType.PUBLICATION, False),
    ]


@pytest.mark.parametrize(
    ("raw", "view"),
    [
        ("overview", View.OVERVIEW),
        ("Close-up", View.CLOSE_UP),
        ("close_up", View.CLOSE_UP),
        ("closeup", View.CLOSE_UP),
        ("dermoscopic", View.DERMOSCOPIC),
        (None, None),
        ("", None),
    ],
)
def test_view_parse(raw: str | None, view: View | None) -> None:
    assert View.parse(raw) is view


def test_view_parse_refuses() -> None:
    with pytest.raises(ValueError, match="overview, close-up, dermoscopic"):
        View.parse("panorama")
