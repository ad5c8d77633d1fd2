from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pointcare.domain.body_sites import Aspect, Laterality, body_site
from pointcare.domain.codes import LOCAL_SCHEME
from pointcare.domain.findings import FindingDetails, FindingKind, next_label

FOREARM = body_site("14975008")
SACRUM = body_site("54735007")


def details(**changes: Any) -> FindingDetails:
    fields: dict[str, Any] = {
        "kind": FindingKind.PRESSURE_INJURY,
        "label": "  Wound   1 ",
        "body_site": SACRUM,
        "laterality": None,
        "aspect": None,
        "opened_on": date(2024, 11, 5),
    }
    return FindingDetails(**(fields | changes))


def test_label_is_tidied_and_an_unpaired_site_takes_u() -> None:
    finding = details()
    assert finding.label == "Wound 1"
    assert finding.laterality is Laterality.UNPAIRED
    assert finding.is_open


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": "   "}, "needs a label"),
        ({"label": "x" * 65}, "longer than 64"),
        ({"body_site": FOREARM}, "laterality is required"),
        ({"closed_on": date(2024, 11, 4)}, "closed before it was opened"),
    ],
)
def test_bad_findings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        details(**changes)


def test_next_label_counts_within_the_family() -> None:
    existing = ["Wound 1", "wound 4", "Lesion 2", "Left heel"]
    assert next_label(FindingKind.BURN, existing) == "Wound 5"
    assert next_label(FindingKind.SKIN_LESION, existing) == "Lesion 3"
    assert next_label(FindingKind.SKIN_LESION, []) == "Lesion 1"


def test_kinds_are_local_codes_and_aspects_snomed() -> None:
    assert FindingKind.DIABETIC_FOOT_ULCER.code.scheme == LOCAL_SCHEME
    assert FindingKind.DIABETIC_FOOT_ULCER.code.meaning == "Diabetic foot ulcer"
    assert Aspect.POSTERIOR.code.value == "255551008"
    assert not FindingKind.SKIN_LESION.is_wound
