"""The folding rule behind name search, and how queries are read."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointcare.identity.directory import escape_like
from pointcare.identity.names import (
    MAX_QUERY_WORDS,
    NAME_KEY_MAX_LENGTH,
    NamePrefix,
    fold,
    name_key,
    name_prefixes,
)


@pytest.mark.parametrize(
    ("family", "given", "key"),
    [
        ("Öberg", "Åsa", "oberg asa"),
        ("Ångström", "Zoë", "angstrom zoe"),
        ("O'Brien", "Seán", "obrien sean"),
        ("O’Brien", "Seán", "obrien sean"),  # typographic apostrophe (phones type this one)
        ("Oʼ Brien", "Sean", "obrien sean"),  # modifier-letter apostrophe, a Unicode "letter"
        ("Wójcik", "Łukasz", "wojcik lukasz"),
        ("Çelik", "Şükrü", "celik sukru"),
        ("ÇELİK", "ŞÜKRÜ", "celik sukru"),  # Turkish dotted capital I
        ("Yılmaz", "Işıl", "yilmaz isil"),  # Turkish dotless i
        ("Nguyễn", "Thị Minh Anh", "nguyen thiminhanh"),
        ("Trần", "Văn Đức", "tran vanduc"),
        ("Sørensen", "Bjørn", "sorensen bjorn"),
        ("Strauß", "Grete", "strauss grete"),
        ("STRAUSS", "GRETE", "strauss grete"),
        ("Ærø", "Æbelø", "aero aebelo"),
        ("Lindqvist-Nilsson", "Maja", "lindqvistnilsson maja"),
        ("  van   der  Berg ", "Anna-Lena", "vanderberg annalena"),
        ("Doe", "", "doe "),
    ],
)
def test_name_key_examples(family: str, given: str, key: str) -> None:
    assert name_key(family, given) == key


def test_decomposed_input_folds_like_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Öberg")
    assert decomposed != "Öberg"
    assert fold(decomposed) == fold("Öberg") == "oberg"


def test_name_key_is_cut_to_the_column_width() -> None:
    # NFKD spells out the ligature ﷺ as 15 letters, so a key can outgrow the column.
    assert len(name_key("a" * 64, "ﷺ" * 7)) == NAME_KEY_MAX_LENGTH


def test_like_metacharacters_are_escaped() -> None:
    assert escape_like("50%_off/x") == "50/%/_off//x"


def test_folding_removes_like_metacharacters() -> None:
    assert fold("%_") == ""


# --- Queries ---------------------------------------------------------------------------------


def test_a_one_word_query_is_a_family_prefix() -> None:
    assert name_prefixes("Öber") == (NamePrefix("ober"),)


def test_apostrophe_variants_read_the_same() -> None:
    for query in ("OBrien", "O'Brien", "o brien", "O’BRIEN"):
        assert NamePrefix("obrien") in name_prefixes(query), query


def test_two_words_are_read_in_both_orders_and_as_one_family_name() -> None:
    assert name_prefixes("asa oberg") == (
        NamePrefix("asaoberg"),
        NamePrefix("asa", "oberg"),
        NamePrefix("oberg", "asa"),
    )


def test_banner_form_with_a_comma_is_read_one_way() -> None:
    assert name_prefixes("ANDERSSON, Eva") == (NamePrefix("andersson", "eva"),)
    assert name_prefixes("Andersson,") == (NamePrefix("andersson"),)
    assert name_prefixes(", Eva") == ()


@pytest.mark.parametrize("query", ["", "   ", "%", "_", "%_%", "' - '"])
def test_nothing_searchable_reads_as_no_prefix(query: str) -> None:
    assert name_prefixes(query) == ()


def test_too_many_words_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        name_prefixes(" ".join(["a"] * (MAX_QUERY_WORDS + 1)))


# --- Properties ------------------------------------------------------------------------------

# Letters from Latin-1 and Latin Extended-A (accented Latin, ß, ø, æ, ł, đ, ı ...), which is
# what names in the directory are written in; hypothesis's full text() covers the rest.
LATIN_LETTERS = st.characters(
    min_codepoint=0x41,
    max_codepoint=0x17F,
    categories=("Lu", "Ll"),
)
WORD = st.text(LATIN_LETTERS, min_size=1, max_size=12)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
SEPARATORS = st.sampled_from(["'", "’", "-", " ", "  "])


@given(st.text())
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_folding_ignores_unicode_normal_form(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert fold(nfc) == fold(nfd)


@given(st.text())
def test_folded_text_has_no_accents_spaces_or_punctuation(text: str) -> None:
    for ch in fold(text):
        assert unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Mc", repr(ch)


@given(NAME)
def test_folding_ignores_case(name: str) -> None:
    assert fold(name.upper()) == fold(name.lower()) == fold(name)


@given(st.lists(st.tuples(WORD, SEPARATORS), min_size=1, max_size=4))
def test_folding_ignores_apostrophes_hyphens_and_spaces(parts: list[tuple[str, str]]) -> None:
    plain = "".join(word for word, _ in parts)
    punctuated = "".join(word + separator for word, separator in parts)
    assert fold(punctuated) == fold(plain)


@given(NAME, NAME)
def test_a_key_has_one_space_after_the_family_name(family: str, given_name: str) -> None:
    key = name_key(family, given_name)
    assert key.count(" ") == 1
    assert key.startswith(fold(family) + " ")


def _like_matches(key: str, reading: NamePrefix) -> bool:
    """What the SQL LIKE pattern built from ``reading`` does to ``key``."""
    family, _, given_part = key.partition(" ")
    if reading.given is None:
        return key.startswith(reading.family)
    return family.startswith(reading.family) and given_part.startswith(reading.given)


@given(NAME, NAME, st.sampled_from(["{f} {g}", "{g} {f}", "{F}, {g}", "{F}", "{f}"]))
def test_a_patient_is_found_by_their_own_name(family: str, given_name: str, form: str) -> None:
    query = form.format(f=family, g=given_name, F=family.upper())
    key = name_key(family, given_name)
    assert any(_like_matches(key, reading) for reading in name_prefixes(query))
