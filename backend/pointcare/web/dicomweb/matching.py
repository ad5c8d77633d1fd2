"""QIDO-RS query parameters (PS3.18 8.3.4) turned into SQL conditions on the archive index.

Keys are accepted by keyword (``PatientID``) or tag (``00100020``). Matching follows PS3.4
C.2.2.2: single value, UID lists (comma or backslash separated), date ranges
(``YYYYMMDD-YYYYMMDD``, open at either end), and wildcards (``*``, ``?``) on text, which match
case-insensitively. An empty value, or a lone ``*``, is universal matching: no condition.

Person names are matched as clinicians search: each component (family, given) is folded by the
rule of the home page's name search (``pointcare.identity.names``: case, accents and
punctuation ignored), so ``angstrom*`` finds Ångström. With ``fuzzymatching=true`` a name is
read as that search box reads it: name prefixes, family or given name first.

A key we cannot match on is refused with 400 rather than ignored (as some origin servers do):
ignoring a filter *widens* the answer, and a query meant for one patient's photos would list
other patients'. So is an ``includefield`` that names no attribute. The optional empty-value
and multiple-value matching flags are answered with the Warning PS3.18 prescribes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Protocol, cast

from litestar.exceptions import ClientException
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, false, func, select
from sqlalchemy.orm import aliased

from pointcare.db.models import Instance, Patient, Series, Study
from pointcare.identity.directory import name_matches
from pointcare.identity.names import fold
from pointcare.web.dicomweb.modalities import sop_classes_of
from pointcare.web.dicomweb.sql import folded_like, has_wildcards, wildcard_like
from pointcare.web.dicomweb.uids import is_uid

MAX_RESULTS = 1000
"""Most objects in one answer; beyond it a Warning tells the caller to page with ``offset``."""

Matcher = Callable[[str], ColumnElement[bool]]


class PersonNameMatcher(Protocol):
    def __call__(self, value: str, *, fuzzy: bool) -> ColumnElement[bool]: ...


class Level(IntEnum):
    """Query levels of the Study Root model; a search may use keys of its level and above."""

    STUDY = 1
    SERIES = 2
    INSTANCE = 3


@dataclass(frozen=True, slots=True)
class Search:
    """A checked QIDO query: SQL conditions, paging, the attributes asked for beyond the
    defaults (keywords; ``all`` for every one we have), and warnings for the answer."""

    level: Level
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    limit: int = MAX_RESULTS
    offset: int = 0
    include: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)


# --- Matching rules, one per kind of attribute ----------------------------------------------


def _bad(detail: str) -> ClientException:
    return ClientException(detail=detail)


def _uid_list(column: SQLColumnExpression[str]) -> Matcher:
    def match(value: str) -> ColumnElement[bool]:
        uids = [item.strip() for item in re.split(r"[,\\]", value) if item.strip()]
        for uid in uids:
            if not is_uid(uid):
                raise _bad(f"{uid[:80]!r} is not a valid DICOM UID (UIDs take no wildcards).")
        return column.in_(uids)

    return match


def _text(column: SQLColumnExpression[str], *, ignore_case: bool = False) -> Matcher:
    def match(value: str) -> ColumnElement[bool]:
        if has_wildcards(value):
            return wildcard_like(column, value)
        if ignore_case:
            return func.lower(column) == func.lower(value)
        return column == value

    return match


def _parse_da(text: str, keyword: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise _bad(
            f"{keyword} must be a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD "
            f"(either end may be left open), got {text!r}."
        ) from None


def _date_bounds(value: str, keyword: str) -> tuple[date | None, date | None]:
    """The first and last day a date or a range names (None: open at that end)."""
    if "-" not in value:
        day = _parse_da(value, keyword)
        return day, day
    start, _, end = value.partition("-")
    if not start and not end:
        raise _bad(f"{keyword}: '-' is not a date range.")
    first = _parse_da(start, keyword) if start else None
    last = _parse_da(end, keyword) if end else None
    if first is not None and last is not None and first > last:
        raise _bad(f"{keyword}: the range {value!r} ends before it starts.")
    return first, last


def _within(
    expression: SQLColumnExpression[date | None], start: date | None, end: date | None
) -> ColumnElement[bool]:
    if start is not None and start == end:
        return expression == start
    conditions = []
    if start is not None:
        conditions.append(expression >= start)
    if end is not None:
        conditions.append(expression <= end)
    return and_(*conditions)


def _date_range(expression: SQLColumnExpression[date | None], keyword: str) -> Matcher:
    def match(value: str) -> ColumnElement[bool]:
        return _within(expression, *_date_bounds(value, keyword))

    return match


def _integer(column: SQLColumnExpression[int], keyword: str) -> Matcher:
    def match(value: str) -> ColumnElement[bool]:
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", value):
            raise _bad(f"{keyword} must be a whole number, got {value!r}.")
        return column == int(value)

    return match


def _never_recorded(value: str) -> ColumnElement[bool]:
    """Attributes this archive leaves empty (no orders, so no accession number): a non-empty
    value matches nothing."""
    return false()


_OTHER_OBJECTS = {
    link: aliased(Instance, name=f"objects_in_{link}") for link in ("study_id", "series_id")
}
"""Aliases of ``instances`` for ``_modality_in``, so that an instance-level search (whose FROM
already holds ``instances``) asks about the other objects of the study, not about the row
itself. Made once: an alias costs a millisecond to make, and can serve every query."""


def _modality_in(scope: SQLColumnExpression[int], link: str) -> Matcher:
    """Whether the study or series (``scope``) holds an object of the modality; ``link`` names
    the column of ``instances`` pointing at it."""

    def match(value: str) -> ColumnElement[bool]:
        wanted = [
            sop_class
            for modality in re.split(r"[,\\]", value)
            for sop_class in sop_classes_of(modality.strip().upper())
        ]
        other = _OTHER_OBJECTS[link]
        return exists(
            select(other.id).where(getattr(other, link) == scope, other.sop_class_uid.in_(wanted))
        )

    return match


def _folded_pattern(component: str) -> str:
    """A PN component folded as names are, its ``*`` and ``?`` kept as wildcards."""
    return "".join(
        piece if piece in {"*", "?"} else fold(piece) for piece in re.split(r"([*?])", component)
    )


def _patient_name(value: str, *, fuzzy: bool) -> ColumnElement[bool]:
    """Patient's Name (FAMILY^GIVEN) against the folded key ``"family given"`` of each patient.

    Only the alphabetic group is matched (``=`` starts the ideographic one); components past
    the given name match only when empty or ``*``, as nobody here has a middle name, prefix or
    suffix recorded."""
    alphabetic = value.partition("=")[0]
    if fuzzy:
        words = re.sub(r"[*?]", " ", alphabetic)
        family, _, given = words.partition("^")
        try:
            return name_matches(f"{family}, {given}" if given.strip() else family)
        except ValueError as exc:
            raise _bad(f"PatientName: {exc}.") from None
    family, given, *rest = [*alphabetic.split("^"), ""]
    if any(component not in {"", "*"} for component in rest):
        return false()
    key = f"{_folded_pattern(family)} {_folded_pattern(given)}"
    if not has_wildcards(key):
        return Patient.name_key == key
    # "Öberg*" matches Öberg^Åsa: a trailing "*" in the family name runs on into the given name.
    return folded_like(Patient.name_key, key.removesuffix(" ") if key.endswith("* ") else key)


_KEYS: dict[str, tuple[Level, Matcher]] = {
    # Patient and study keys
    "PatientID": (Level.STUDY, _text(Patient.mrn)),
    "IssuerOfPatientID": (Level.STUDY, _text(Patient.issuer)),
    "PatientBirthDate": (Level.STUDY, _date_range(Patient.birth_date, "PatientBirthDate")),
    "PatientSex": (Level.STUDY, _text(Patient.sex, ignore_case=True)),
    "StudyInstanceUID": (Level.STUDY, _uid_list(Study.study_instance_uid)),
    "StudyDate": (Level.STUDY, _date_range(Study.study_date, "StudyDate")),
    "StudyID": (Level.STUDY, _text(Study.study_id)),
    "StudyDescription": (Level.STUDY, _text(Study.description)),
    "AccessionNumber": (Level.STUDY, _never_recorded),
    "ReferringPhysicianName": (Level.STUDY, _never_recorded),
    "ModalitiesInStudy": (Level.STUDY, _modality_in(Study.id, "study_id")),
    # Series keys
    "SeriesInstanceUID": (Level.SERIES, _uid_list(Series.series_instance_uid)),
    "SeriesNumber": (Level.SERIES, _integer(Series.series_number, "SeriesNumber")),
    "SeriesDescription": (Level.SERIES, _text(Series.description)),
    "Modality": (Level.SERIES, _modality_in(Series.id, "series_id")),
    # Instance keys
    "SOPInstanceUID": (Level.INSTANCE, _uid_list(Instance.sop_instance_uid)),
    "SOPClassUID": (Level.INSTANCE, _uid_list(Instance.sop_class_uid)),
    "InstanceNumber": (Level.INSTANCE, _integer(Instance.instance_number, "InstanceNumber")),
    # Null for objects that are no image: they never match a laterality asked for.
    "ImageLaterality": (
        Level.INSTANCE,
        _text(cast(SQLColumnExpression[str], Instance.laterality), ignore_case=True),
    ),
}

_PERSON_NAMES: dict[str, tuple[Level, PersonNameMatcher]] = {
    "PatientName": (Level.STUDY, _patient_name),
}
"""Person name keys, matched with or without ``fuzzymatching``."""

_FLAGS = {
    "emptyvaluematching": "The emptyvaluematching parameter is not supported. "
    "Empty Value Matching has not been performed.",
    "multiplevaluematching": "The multiplevaluematching parameter is not supported. "
    "Multiple Value Matching has not been performed.",
}
"""Optional PS3.18 search flags we do not implement: set true, they get the Warning PS3.18
prescribes for that case."""
FUZZY = "fuzzymatching"
INCLUDE = "includefield"
INCLUDE_ALL = "all"


def supported_keys(level: Level) -> list[str]:
    keys = {keyword: key_level for keyword, (key_level, _) in _KEYS.items()}
    keys |= {keyword: key_level for keyword, (key_level, _) in _PERSON_NAMES.items()}
    return sorted(keyword for keyword, key_level in keys.items() if key_level <= level)


def attribute_keyword(name: str) -> str | None:
    """The DICOM keyword that a query key names, by keyword or by 8-digit hex tag."""
    if re.fullmatch(r"[0-9A-Fa-f]{8}", name):
        return keyword_for_tag(int(name, 16)) or None
    return name if name and tag_for_keyword(name) is not None else None


def _flag(name: str, value: str) -> bool:
    if value.lower() not in {"true", "false"}:
        raise _bad(f"{name} must be true or false, got {value!r}.")
    return value.lower() == "true"


def _included(value: str) -> set[str]:
    """The keywords of an ``includefield`` value: a comma-separated list, or ``all``."""
    found = set()
    for item in (part.strip() for part in value.split(",")):
        keyword = INCLUDE_ALL if item == INCLUDE_ALL else attribute_keyword(item)
        if keyword is None:
            raise _bad(
                f"includefield {item[:80]!r} is not a DICOM attribute: give keywords or tags "
                f"(e.g. StudyDescription or 00081030), or {INCLUDE_ALL}."
            )
        found.add(keyword)
    return found


def parse_search(parameters: Iterable[tuple[str, str]], level: Level) -> Search:
    """Check the query parameters of a search at ``level``; 400 with the reason when one is bad."""
    keys: list[tuple[str, str]] = []
    warnings: list[str] = []
    include: set[str] = set()
    paging = {"limit": MAX_RESULTS, "offset": 0}
    fuzzy = False
    for name, raw in parameters:
        value = raw.strip()
        if name == INCLUDE:
            include |= _included(value)
        elif name == FUZZY:
            fuzzy = _flag(name, value)
        elif name in _FLAGS:
            if _flag(name, value):
                warnings.append(_FLAGS[name])
        elif name in paging:
            paging[name] = _paging_number(name, value)
        else:
            keys.append((name, value))
    return Search(
        level,
        _conditions(keys, level, fuzzy=fuzzy),
        limit=min(paging["limit"], MAX_RESULTS),
        offset=paging["offset"],
        include=frozenset(include),
        warnings=warnings,
    )


def _conditions(
    keys: list[tuple[str, str]], level: Level, *, fuzzy: bool
) -> list[ColumnElement[bool]]:
    conditions = []
    seen: set[str] = set()
    for name, value in keys:
        keyword = attribute_keyword(name)
        if keyword is None:
            raise _bad(
                f"Unknown query parameter {name!r}: use a DICOM keyword or tag (e.g. PatientID or "
                f"00100020), or limit, offset, {INCLUDE}, {FUZZY}."
            )
        if keyword in seen:
            raise _bad(f"{keyword} is given more than once; give one value (or a list for UIDs).")
        seen.add(keyword)
        if value == "" or set(value) == {"*"}:
            continue  # universal matching
        conditions.append(_condition(keyword, value, level, fuzzy=fuzzy))
    return conditions


def _condition(keyword: str, value: str, level: Level, *, fuzzy: bool) -> ColumnElement[bool]:
    if keyword in _PERSON_NAMES:
        key_level, match_name = _PERSON_NAMES[keyword]
        _require_level(keyword, key_level, level)
        return match_name(value, fuzzy=fuzzy)
    known = _KEYS.get(keyword)
    if known is None:
        raise _bad(
            f"Matching on {keyword} is not supported. Keys supported at the {level.name.lower()} "
            f"level: {', '.join(supported_keys(level))}."
        )
    key_level, match = known
    _require_level(keyword, key_level, level)
    return match(value)


def _require_level(keyword: str, key_level: Level, level: Level) -> None:
    if key_level > level:
        raise _bad(
            f"{keyword} is a {key_level.name.lower()}-level key and cannot be used in a "
            f"{level.name.lower()}-level search."
        )


def _paging_number(name: str, value: str) -> int:
    lowest = 1 if name == "limit" else 0
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < lowest:
        raise _bad(f"{name} must be a whole number of at least {lowest}, got {value!r}.")
    return int(value)
