"""Wristband payload rules: plain, prefixed, HL7 CX and GS1 GSRN, and their refusals."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pointcare.domain.patients import check_identifier
from pointcare.settings import Settings
from pointcare.wristband.identifiers import (
    DEFAULT_RULES,
    GS,
    GS1_SYMBOLOGY_IDENTIFIERS,
    UnrecognisedWristband,
    WristbandConfigError,
    WristbandId,
    WristbandRule,
    WristbandRules,
    element_string,
    gs1_check_digit,
    gsrn_with_check_digit,
    is_valid_gsrn,
    needs_separator,
    parse_bracketed,
    parse_element_string,
    read_wristband,
)

GSRN = "123456789012345675"
"""A GSRN with a valid check digit (GS1 mod 10 of 12345678901234567 is 5)."""


def rules(
    prefixes: str = "MRN:,PID:,PID-3:",
    mrn_pattern: str = r"[A-Za-z0-9-]{3,20}",
    gsrn_issuer: str = "",
) -> WristbandRules:
    return WristbandRules.from_config(
        prefixes=prefixes, mrn_pattern=mrn_pattern, gsrn_issuer=gsrn_issuer
    )


# --- Plain and prefixed MRNs --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["PC100001", "  PC100001 ", "PC100001\r\n", "\tAB-12\n"])
def test_plain_mrn_is_the_trimmed_text(text: str) -> None:
    found = read_wristband(text)
    assert found == WristbandId(text.strip(), None, WristbandRule.PLAIN)


@pytest.mark.parametrize("text", ["AB", "x" * 21, "PC 100001", "PC100001!", "Åsa1234"])
def test_text_that_does_not_look_like_an_mrn_is_refused(text: str) -> None:
    with pytest.raises(UnrecognisedWristband, match="not a patient wristband"):
        read_wristband(text)


@pytest.mark.parametrize(
    "text",
    [
        "MRN:PC100001",
        "mrn:PC100001",
        "MRN: PC100001",
        "PID:PC100001",
        "PID-3:PC100001",
        "pid-3: PC100001\r\n",
    ],
)
def test_prefixed_mrn(text: str) -> None:
    assert read_wristband(text) == WristbandId("PC100001", None, WristbandRule.PREFIXED)


@pytest.mark.parametrize(
    ("text", "issuer"),
    [
        ("MRN:PC100001^^^PCDEMO", "PCDEMO"),
        ("PID-3:PC100001^^^PCDEMO^MR", "PCDEMO"),
        ("PID-3:PC100001^^^PCDEMO&2.16.840.1.113883.3.1&ISO", "PCDEMO"),
        ("PID-3:PC100001^^^&2.16.840.1.113883.3.1&ISO", "2.16.840.1.113883.3.1"),
        ("PC100001^^^PCDEMO", "PCDEMO"),
        ("MRN:PC100001^^^", None),
    ],
)
def test_hl7_cx_gives_the_issuer(text: str, issuer: str | None) -> None:
    assert read_wristband(text) == WristbandId("PC100001", issuer, WristbandRule.HL7_CX)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MRN:", "Nothing follows the prefix"),
        ("MRN:PC 100001", "is not an MRN"),
        ("MRN:^^^PCDEMO", "is not an MRN"),
        ("PID-3:PC100001~NHS123^^^NHS", "is not an MRN"),
    ],
)
def test_bad_prefixed_values_are_refused(text: str, reason: str) -> None:
    with pytest.raises(UnrecognisedWristband, match=reason):
        read_wristband(text)


def test_configured_prefixes_and_pattern() -> None:
    custom = rules(prefixes="PAT#, NHS=", mrn_pattern=r"\d{10}")
    assert custom.read("NHS=9434765919") == WristbandId("9434765919", None, WristbandRule.PREFIXED)
    assert custom.read("pat#9434765919").mrn == "9434765919"
    assert custom.read("9434765919").rule is WristbandRule.PLAIN
    with pytest.raises(UnrecognisedWristband):
        custom.read("MRN:9434765919")
    with pytest.raises(UnrecognisedWristband):
        custom.read("PC100001")


def test_longest_prefix_wins() -> None:
    overlapping = rules(prefixes="P,PID:")
    assert overlapping.read("PID:PC100001").mrn == "PC100001"
    assert overlapping.read("PPC100001").mrn == "PC100001"


def test_prefixed_form_can_be_turned_off() -> None:
    with pytest.raises(UnrecognisedWristband) as caught:
        rules(prefixes="none").read("MRN:PC100001")
    assert not any("MRN:" in item for item in caught.value.expected)


@pytest.mark.parametrize(
    ("option", "kwargs"),
    [
        ("prefixes", {"prefixes": " , "}),
        ("mrn_pattern", {"mrn_pattern": "[unclosed"}),
        ("gsrn_issuer", {"gsrn_issuer": "bad\\issuer"}),
    ],
)
def test_bad_configuration_names_the_option(option: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(WristbandConfigError) as caught:
        rules(**kwargs)
    assert caught.value.option == option


# --- GS1 ------------------------------------------------------------------------------------------


def test_gs1_check_digit() -> None:
    assert gs1_check_digit("12345678901234567") == 5
    # GTIN-13 of the GS1 General Specifications' worked example: 629104150021(3).
    assert gs1_check_digit("629104150021") == 3
    assert gsrn_with_check_digit("12345678901234567") == GSRN
    assert is_valid_gsrn(GSRN)
    assert not is_valid_gsrn(GSRN[:-1] + "4")
    assert not is_valid_gsrn(GSRN[:-1])
    with pytest.raises(ValueError, match="digits"):
        gs1_check_digit("12a")


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        (f"8018{GSRN}", "]C1"),
        (f"8018{GSRN}", "]d2"),
        (f"8018{GSRN}", "]Q3"),
        (f"]C18018{GSRN}", None),
        (f"]d2{GS}8018{GSRN}", None),
        (f"{GS}8018{GSRN}", None),
        (f"8018{GSRN}{GS}801912", None),
        (f"(8018){GSRN}", None),
        (f"(8018) {GSRN}", None),
        (f"8018{GSRN}", None),
    ],
)
def test_gsrn_forms(text: str, identifier: str | None) -> None:
    found = read_wristband(text, symbology_identifier=identifier)
    assert found == WristbandId(GSRN, None, WristbandRule.GS1_GSRN)


def test_gsrn_among_other_application_identifiers() -> None:
    # GTIN (fixed 14), expiry (fixed 6) need no separator; batch (10) and serial (21) do.
    fixed_then_gsrn = f"0109506000134352172612311012AB{GS}8018{GSRN}{GS}8019123{GS}21S/N-9"
    assert read_wristband(fixed_then_gsrn, symbology_identifier="]C1").mrn == GSRN
    assert parse_element_string(fixed_then_gsrn) == [
        ("01", "09506000134352"),
        ("17", "261231"),
        ("10", "12AB"),
        ("8018", GSRN),
        ("8019", "123"),
        ("21", "S/N-9"),
    ]
    sscc = f"00123456789012345675{GS}8018{GSRN}111501012012"
    assert parse_element_string(sscc)[1:] == [("8018", GSRN), ("11", "150101"), ("20", "12")]
    bracketed = f"(01)09506000134352(11)150101(10)LOT 7(8018){GSRN}(8019)1(00)123456789012345675"
    assert read_wristband(bracketed).mrn == GSRN
    assert dict(parse_bracketed(bracketed))["10"] == "LOT7"


def test_the_same_gsrn_twice_is_fine_two_different_are_not() -> None:
    assert read_wristband(f"(8018){GSRN}(8018){GSRN}").mrn == GSRN
    other = gsrn_with_check_digit("76543210987654321")
    with pytest.raises(UnrecognisedWristband, match="two different GSRNs"):
        read_wristband(f"(8018){GSRN}(8018){other}")


@pytest.mark.parametrize("wrong", ["0", "1", "2", "3", "4", "6", "7", "8", "9"])
def test_every_wrong_check_digit_is_refused(wrong: str) -> None:
    damaged = GSRN[:-1] + wrong
    for text, identifier in [(f"8018{damaged}", "]C1"), (f"(8018){damaged}", None)]:
        with pytest.raises(UnrecognisedWristband, match="check digit"):
            read_wristband(text, symbology_identifier=identifier)


def test_transposed_digits_are_caught() -> None:
    swapped = GSRN[1] + GSRN[0] + GSRN[2:]
    with pytest.raises(UnrecognisedWristband, match="check digit"):
        read_wristband(f"(8018){swapped}")


@pytest.mark.parametrize(
    ("text", "identifier", "reason"),
    [
        ("0109506000134352", "]C1", "no patient GSRN"),
        ("(01)09506000134352(17)261231", None, "no patient GSRN"),
        ("8018123", "]C1", "exactly 18 digits"),
        (f"8018{GSRN[:-1]}X", "]C1", "exactly 18 digits"),
        (f"2391{GSRN}", "]C1", "not valid GS1"),
        (f"(8018){GSRN}(999)1", None, r"\(999\) is not a GS1"),
        (f"10{'A' * 21}", "]C1", "too long, or a separator is missing"),
        (f"(8018){GSRN}(10)", None, "1 to 20"),
        (f"{GS}{GS}", "]C1", "empty"),
    ],
)
def test_gs1_refusals_say_why(text: str, identifier: str | None, reason: str) -> None:
    with pytest.raises(UnrecognisedWristband, match=reason):
        read_wristband(text, symbology_identifier=identifier)


def test_gsrn_issuer_setting() -> None:
    assert rules(gsrn_issuer="GS1").read(f"(8018){GSRN}").issuer == "GS1"
    assert rules(gsrn_issuer="  ").read(f"(8018){GSRN}").issuer is None


def test_a_numeric_mrn_is_not_mistaken_for_gs1() -> None:
    # The MRN pattern decides first; the bare-digits GS1 reading is only a fallback.
    numeric = rules(mrn_pattern=r"\d{22}")
    assert numeric.read(f"8018{GSRN}") == WristbandId(f"8018{GSRN}", None, WristbandRule.PLAIN)


def test_element_string_inserts_separators_only_where_needed() -> None:
    built = element_string(
        [("01", "09506000134352"), ("8018", GSRN), ("10", "A1"), ("17", "261231")]
    )
    assert built == f"01095060001343528018{GSRN}{GS}10A1{GS}17261231"
    assert parse_element_string(built)[1] == ("8018", GSRN)
    with pytest.raises(ValueError, match="exactly 14"):
        element_string([("01", "123")])


def test_separators_follow_gs1_s_predefined_lengths() -> None:
    assert not needs_separator("01") and not needs_separator("17") and needs_separator("8018")
    with pytest.raises(ValueError, match="not a GS1 Application Identifier"):
        needs_separator("23")


def test_message_names_the_expected_formats() -> None:
    with pytest.raises(UnrecognisedWristband) as caught:
        read_wristband("hello world")
    message = str(caught.value)
    assert "plain MRN" in message and "MRN:, PID: or PID-3:" in message and "8018" in message
    assert isinstance(caught.value, ValueError)


def test_oversized_text_is_refused_unread() -> None:
    with pytest.raises(UnrecognisedWristband, match="far more text"):
        read_wristband("A" * 10_000)


# --- Properties -----------------------------------------------------------------------------------

_ANY_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(list("()^&:]\x1d0123456789 \r\n")),
    max_size=120,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_ANY_TEXT | st.builds(lambda t: f"(8018){t}", _ANY_TEXT),
    identifier=st.none() | st.sampled_from([*GS1_SYMBOLOGY_IDENTIFIERS, "]C0", "]Q1", "]L2"]),
)
def test_parser_answers_or_refuses_nothing_else(text: str, identifier: str | None) -> None:
    try:
        found = read_wristband(text, symbology_identifier=identifier)
    except UnrecognisedWristband as exc:
        assert exc.reason and exc.expected
        return
    assert check_identifier(found.mrn, "MRN") == found.mrn
    if found.rule is WristbandRule.GS1_GSRN:
        assert is_valid_gsrn(found.mrn)
    else:
        assert DEFAULT_RULES.mrn_pattern.fullmatch(found.mrn)


_GS1_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./")
_DIGITS = st.sampled_from("0123456789")
_DATE = st.dates(min_value=date(2000, 1, 1), max_value=date(2049, 12, 31)).map(
    lambda day: day.strftime("%y%m%d")
)
_OTHER_ELEMENTS: dict[str, st.SearchStrategy[str]] = {
    # What a wristband or a label next to it may carry beside the GSRN.
    "00": st.text(_DIGITS, min_size=17, max_size=17).map(lambda d: d + str(gs1_check_digit(d))),
    "01": st.text(_DIGITS, min_size=13, max_size=13).map(lambda d: d + str(gs1_check_digit(d))),
    "10": st.text(_GS1_CHARS, min_size=1, max_size=20),
    "11": _DATE,
    "17": _DATE,
    "21": st.text(_GS1_CHARS, min_size=1, max_size=20),
    "8019": st.text(_DIGITS, min_size=1, max_size=10),
}


@st.composite
def _element(draw: st.DrawFn) -> tuple[str, str]:
    ai = draw(st.sampled_from(sorted(_OTHER_ELEMENTS)))
    return ai, draw(_OTHER_ELEMENTS[ai])


@settings(max_examples=300)
@given(
    before=st.lists(_element(), max_size=4),
    after=st.lists(_element(), max_size=4),
    serial=st.text(st.sampled_from("0123456789"), min_size=17, max_size=17),
    marker=st.sampled_from(
        ["]C1", "]d2", "]Q3", "text ]C1", "text ]d2", "leading GS", "bracketed"]
    ),
    extra_separators=st.booleans(),
)
def test_a_valid_gsrn_among_random_ais_is_found(
    before: list[tuple[str, str]],
    after: list[tuple[str, str]],
    serial: str,
    marker: str,
    extra_separators: bool,
) -> None:
    gsrn = gsrn_with_check_digit(serial)
    elements = [*before, ("8018", gsrn), *after]
    identifier: str | None = None
    if marker == "bracketed":
        text = "".join(f"({ai}){value}" for ai, value in elements)
    else:
        text = element_string(elements)
        if extra_separators:
            # A separator after any element string is tolerated, needed or not.
            text = GS.join(ai + value for ai, value in elements)
        if marker.startswith("text "):
            text = marker.removeprefix("text ") + text
        elif marker == "leading GS":
            text = GS + text
        else:
            identifier = marker
    found = read_wristband(text, symbology_identifier=identifier)
    assert found == WristbandId(gsrn, None, WristbandRule.GS1_GSRN)


@settings(max_examples=200)
@given(
    serial=st.text(st.sampled_from("0123456789"), min_size=17, max_size=17),
    wrong=st.integers(1, 9),
)
def test_any_single_digit_error_in_the_check_digit_is_refused(serial: str, wrong: int) -> None:
    good = gsrn_with_check_digit(serial)
    bad = good[:-1] + str((int(good[-1]) + wrong) % 10)
    with pytest.raises(UnrecognisedWristband, match="check digit"):
        read_wristband(f"8018{bad}", symbology_identifier="]C1")


@settings(max_examples=200)
@given(
    mrn=st.from_regex(re.compile(r"[A-Za-z0-9-]{3,20}"), fullmatch=True),
    prefix=st.sampled_from(["", "MRN:", "mrn: ", "PID:", "PID-3:"]),
    padding=st.sampled_from(["", " ", "\r\n", "\t"]),
)
def test_plain_and_prefixed_round_trip(mrn: str, prefix: str, padding: str) -> None:
    assume(not prefix or not mrn.casefold().startswith(("mrn:", "pid")))
    found = read_wristband(padding + prefix + mrn + padding)
    assert found.mrn == mrn and found.issuer is None
    assert found.rule is (WristbandRule.PREFIXED if prefix else WristbandRule.PLAIN)


def test_prefix_comparison_does_not_shift_on_case_folding() -> None:
    # "ß" case-folds to "ss": a folded comparison must not cut the MRN at the wrong place.
    with pytest.raises(UnrecognisedWristband):
        rules(prefixes="SS:").read("ß:PC100001")
    assert rules(prefixes="SS:").read("ss:PC100001").mrn == "PC100001"


def test_settings_refuse_bad_rules_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="POINTCARE_WRISTBAND_MRN_PATTERN"):
        Settings(wristband_mrn_pattern="[A-Z")
    with pytest.raises(ValueError, match="POINTCARE_WRISTBAND_PREFIXES"):
        Settings(wristband_prefixes=",")
    assert Settings(wristband_prefixes="none").wristband_prefixes == "none"
