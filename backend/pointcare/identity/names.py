"""How names are folded for search: the rule behind ``Patient.name_key`` and the search box.

The rule (one function, :func:`fold`, applied to the stored names and to what a clinician types):

1. Unicode compatibility decomposition (NFKD), case folding, NFKD again, so "Å", "å" and
   "A" + combining ring all become "a" + a mark, and "ß" becomes "ss".
2. Accents (non-spacing marks) are dropped: "Öberg" -> "oberg", "Nguyễn" -> "nguyen".
3. Letters that carry no separable accent are spelled as an English keyboard would type them:
   ø->o, æ->ae, œ->oe, đ/ð->d, ł->l, þ->th, ı->i (see ``_SPELLED_OUT``).
4. Everything that is not a letter or a digit is dropped, spaces included, so "O'Brien",
   "OBrien" and "O Brien" fold to "obrien", and "Lindqvist-Nilsson" to "lindqvistnilsson".

The key stored for a patient is ``fold(family) + " " + fold(given)``: the single space marks where
the family name ends, which lets a query match "family prefix, then given prefix".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

NAME_KEY_MAX_LENGTH = 160
"""Width of ``patients.name_key``; longer keys are cut (only a prefix is ever compared)."""

MAX_QUERY_WORDS = 6
"""A query of n words is tried as 2n - 1 readings; this bounds the size of the SQL."""

_SPELLED_OUT = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        # Apostrophe-like characters that Unicode classes as letters (modifier letters, saltillo):
        # they are apostrophes in names such as O'Brien typed on some keyboards.
        "ʼ": "",
        "ʻ": "",
        "ʹ": "",
        "ꞌ": "",
    }
)


def fold(text: str) -> str:
    """``text`` reduced to lower-case letters and digits without accents (see the module doc)."""
    # Decompose, fold case, decompose again: case folding can produce composed characters.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    spelled = decomposed.translate(_SPELLED_OUT)
    return "".join(ch for ch in spelled if _is_kept(ch))


def _is_kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Letters and digits stay; so do spacing marks (Mc), which are vowels in Indic scripts, not
    # accents. Non-spacing marks (accents), punctuation, symbols and spaces go.
    return category[0] in "LN" or category == "Mc"


def name_key(family: str, given: str) -> str:
    """The search key of a patient: ``"oberg asa"`` for Öberg, Åsa (see the module doc)."""
    return f"{fold(family)} {fold(given)}"[:NAME_KEY_MAX_LENGTH]


@dataclass(frozen=True, slots=True)
class NamePrefix:
    """One reading of a query: the name key starts with ``family``, and its given part with
    ``given`` (when not None)."""

    family: str
    given: str | None = None


def name_prefixes(query: str) -> tuple[NamePrefix, ...]:
    """Every way to read a search-box query as family and given name prefixes.

    "ANDERSSON, Eva" (banner form) is read one way: family before the comma. Otherwise the words
    are read as all family name ("o brien" -> "obrien"), or split at each word boundary with the
    family name first ("oberg asa") or last ("asa oberg"). Empty when nothing searchable is left.
    Raises ``ValueError`` when the query has more than ``MAX_QUERY_WORDS`` words.
    """
    if "," in query:
        family_part, _, given_part = query.partition(",")
        family, given = fold(family_part), fold(given_part)
        return (NamePrefix(family, given or None),) if family else ()
    words = [folded for folded in map(fold, query.split()) if folded]
    if len(words) > MAX_QUERY_WORDS:
        raise ValueError(f"a name search takes at most {MAX_QUERY_WORDS} words")
    if not words:
        return ()
    readings = [NamePrefix("".join(words))]
    for cut in range(1, len(words)):
        head, tail = "".join(words[:cut]), "".join(words[cut:])
        readings.append(NamePrefix(head, tail))
        readings.append(NamePrefix(tail, head))
    return tuple(dict.fromkeys(readings))


__all__ = [
    "MAX_QUERY_WORDS",
    "NAME_KEY_MAX_LENGTH",
    "NamePrefix",
    "fold",
    "name_key",
    "name_prefixes",
]
