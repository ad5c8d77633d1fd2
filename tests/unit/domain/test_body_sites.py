from __future__ import annotations

import pytest
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from pointcare.domain.body_sites import (
    BODY_SITES,
    SITE_ASPECTS,
    Aspect,
    Laterality,
    body_site,
    parse_aspect,
    parse_laterality,
    site_with_side,
)


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


def test_every_aspect_is_an_anatomic_modifier_of_cid_2() -> None:
    # pydicom's code dictionary is generated from DICOM PS3.16: CID 2 "Anatomic Modifier".
    cid2 = {(code.value, code.scheme_designator, code.meaning) for code in _cid(2)}
    for aspect in Aspect:
        assert (aspect.code.value, aspect.code.scheme, aspect.code.meaning) in cid2, aspect
    assert len({aspect.code.value for aspect in Aspect}) == len(Aspect)


def test_every_aspect_a_site_offers_is_one_of_cid_2_with_a_word_for_it() -> None:
    for site in BODY_SITES:
        assert len(set(site.aspects)) == len(site.aspects), site.meaning
        for aspect in site.aspects:
            assert site.aspect_word(aspect) and aspect in SITE_ASPECTS
        for face in (site.surfaces.front, site.surfaces.back):
            assert face is None or face in site.aspects


def test_every_finer_site_has_a_coarse_parent_region_on_the_map() -> None:
    finer = [site for site in BODY_SITES if site.parent is not None]
    assert {site.meaning for site in finer} >= {
        "Thumb",
        "Index finger",
        "Little finger",
        "Great toe",
        "Fifth toe",
        "Skin of heel",
        "Eye",
        "Ear",
        "Nose",
    }
    for site in finer:
        parent = body_site(site.parent or "")
        assert parent.parent is None, f"{site.meaning} zooms from {parent.meaning}, itself finer"
        assert parent.region is site.region or parent.meaning == "Head"
        # A finger is on one hand: it is paired exactly when its parent is.
        assert site.paired == parent.paired or parent.meaning == "Head"


def test_site_codes_are_those_dicom_lists_where_it_lists_the_site() -> None:
    """Where PS3.16 lists a concept of the same name (CID 4 and the regions it includes), the
    catalogue uses its code; fingers and toes one by one are outside the standard's lists."""
    listed = {
        code.meaning.lower(): code.value for cid in (4, 4028, 4029, 4031) for code in _cid(cid)
    }
    for site in BODY_SITES:
        if site.meaning.lower() in listed:
            assert listed[site.meaning.lower()] == site.snomed_id, site.meaning


def test_the_face_is_said_as_clinicians_say_it() -> None:
    assert site_with_side("14975008", "L", "posterior") == "Left forearm, back"
    assert site_with_side("68367000", "R", "anterior") == "Right thigh, front"
    assert site_with_side("83738005", "R", "posterior") == "Right index finger, back"
    assert site_with_side("85562004", "L", "anterior") == "Left hand, palm side"
    assert site_with_side("56459004", "R", "inferior") == "Right foot, sole"
    assert site_with_side("54735007", "U", None) == "Sacrum"
    assert site_with_side("14975008", "B", "medial") == "Forearm (both sides), inner side"


def test_a_face_the_site_lacks_is_refused() -> None:
    forearm = body_site("14975008")
    assert forearm.aspect_for(Aspect.LATERAL) is Aspect.LATERAL
    assert forearm.aspect_for(None) is None
    with pytest.raises(ValueError, match="must be one of anterior, posterior, medial, lateral"):
        forearm.aspect_for(Aspect.SUPERIOR)
    with pytest.raises(ValueError, match="takes no aspect"):
        body_site("54735007").aspect_for(Aspect.ANTERIOR)
    with pytest.raises(ValueError, match="aspect must be one of"):
        parse_aspect("sideways")
    assert parse_aspect(" Posterior ") is Aspect.POSTERIOR and parse_aspect("") is None


def _cid(number: int) -> list[Code]:
    group = getattr(codes, f"CID{number}")
    return [getattr(group, name) for name in group.dir()]
