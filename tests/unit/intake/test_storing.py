from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydicom.dataset import Dataset

from pointcare.domain.body_sites import body_site
from pointcare.domain.clock import TakenAtSource
from pointcare.intake.storing import aspect_of, taken_of

NOON = datetime(2024, 11, 5, 12, 0)


def _dataset(**attributes: str) -> Dataset:
    dataset = Dataset()
    for keyword, value in attributes.items():
        setattr(dataset, keyword, value)
    return dataset


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"AcquisitionDateTime": "20241105120000+0100"}, timezone(timedelta(hours=1))),
        (
            {"AcquisitionDateTime": "20241105120000", "TimezoneOffsetFromUTC": "-0500"},
            timezone(timedelta(hours=-5)),
        ),
        (
            {
                "ContentDate": "20241105",
                "ContentTime": "120000.25",
                "TimezoneOffsetFromUTC": "+0000",
            },
            UTC,
        ),
    ],
    ids=["own-offset", "object-offset", "content-date"],
)
def test_the_moment_the_device_says(attributes: dict[str, str], expected: timezone) -> None:
    taken = taken_of(_dataset(**attributes))
    assert taken.source is TakenAtSource.DEVICE
    assert taken.moment.replace(microsecond=0) == NOON.replace(tzinfo=expected)


def test_an_offset_that_cannot_be_read_leaves_the_moment_at_local_time() -> None:
    taken = taken_of(_dataset(AcquisitionDateTime="20241105120000", TimezoneOffsetFromUTC="+5"))
    assert taken.source is TakenAtSource.DEVICE
    assert taken.moment.tzinfo is not None
    assert taken.moment.replace(tzinfo=None) == NOON


@pytest.mark.parametrize(
    "attributes", [{}, {"AcquisitionDateTime": "yesterday"}], ids=["none", "bad"]
)
def test_without_a_readable_moment_it_is_when_it_arrived(attributes: dict[str, str]) -> None:
    before = datetime.now(UTC)
    taken = taken_of(_dataset(**attributes))
    assert taken.source is TakenAtSource.SERVER
    assert taken.moment >= before - timedelta(seconds=1)


def _region(*modifiers: tuple[str, str]) -> Dataset:
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "68367000", "SCT", "Thigh"
    items = []
    for value, scheme in modifiers:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, "x"
        items.append(item)
    if items:
        region.AnatomicRegionModifierSequence = items
    dataset = Dataset()
    dataset.AnatomicRegionSequence = [region]
    return dataset


def test_a_received_photo_s_modifier_is_indexed_when_the_site_has_that_face() -> None:
    thigh = body_site("68367000")
    assert aspect_of(_region(("255551008", "SCT")), thigh) == "posterior"
    assert aspect_of(_region(("255551008", "SRT")), thigh) == "posterior"  # the old designator
    # Superficial (CID 2) is no face: kept in the object, not indexed; nor is the sole of a thigh.
    assert aspect_of(_region(("26283006", "SCT")), thigh) is None
    assert aspect_of(_region(("261089000", "SCT")), thigh) is None
    assert aspect_of(_region(), thigh) is None
