from __future__ import annotations

import pytest

from pointcare.domain.body_sites import BODY_SITES, Laterality, body_site, parse_laterality


def test_codes_are_unique_snomed_ids() -> None:
    codes = [site.snomed_id for site in BODY_SITES]
    assert len(codes) == len(set(codes))
    assert all(code.isdigit() and 6 <= len(code) <= 18 for code in codes)
    assert all(site.code.scheme == "SCT" for site in BODY_SITES)


def test_lookup_by_code() -> None:
    assert body_site("14975008").meaning == "Forearm"
    assert body_site(" 54735007 ").meaning == "Sacrum"


def test_unknown_code_names_the_catalogue() -> None:
    with pytest.raises(ValueError, match="body-sites"):
        body_site("123")


def test_paired_site_needs_a_side() -> None:
    forearm = body_site("14975008")
    with pytest.raises(ValueError, match="laterality is required"):
        forearm.laterality_for(None)
    with pytest.raises(ValueError, match="paired"):
        forearm.laterality_for(Laterality.UNPAIRED)
    assert forearm.laterality_for(Laterality.LEFT) is Laterality.LEFT


def test_unpaired_site_defaults_to_unpaired() -> None:
    assert body_site("54735007").laterality_for(None) is Laterality.UNPAIRED


def test_intimate_and_identifying_flags() -> None:
    assert body_site("38864007").intimate
    assert body_site("89545001").identifying
    assert not body_site("14975008").identifying


@pytest.mark.parametrize(("raw", "expected"), [("r", "R"), (" L ", "L"), ("B", "B"), ("u", "U")])
def test_parse_laterality(raw: str, expected: str) -> None:
    assert parse_laterality(raw) == Laterality(expected)


@pytest.mark.parametrize("raw", ["left", "X", "RL"])
def test_parse_laterality_refuses(raw: str) -> None:
    with pytest.raises(ValueError, match="R, L, B or U"):
        parse_laterality(raw)


def test_parse_laterality_absent() -> None:
    assert parse_laterality(None) is None
    assert parse_laterality("  ") is None
