"""Checked DICOM values: text within its VR's limits, aware dates and times, coded concepts.

Every check raises ``ValueError`` naming the DICOM attribute, so a caller knows which input to fix.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pydicom.dataset import Dataset
from pydicom.uid import RE_VALID_UID

from pointcare.domain.codes import Code

# LO, SH, CS and PN forbid the backslash (value separator) and control characters.
_FORBIDDEN_SINGLE_LINE = re.compile(r"[\\\x00-\x1f\x7f]")
# LT and ST allow CR, LF, TAB and FF.
_FORBIDDEN_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_PN_COMPONENT = 64
_MAX_SH_CODE_VALUE = 16
MAX_LENGTH = {"SH": 16, "LO": 64, "LT": 10240, "UI": 64}


def text(value: str, keyword: str, vr: str) -> str:
    """``value`` checked against ``vr`` (SH, LO or LT)."""
    limit = MAX_LENGTH[vr]
    if len(value) > limit:
        raise ValueError(f"{keyword} holds at most {limit} characters ({vr}), got {len(value)}")
    forbidden = _FORBIDDEN_TEXT if vr == "LT" else _FORBIDDEN_SINGLE_LINE
    if forbidden.search(value):
        raise ValueError(f"{keyword} contains a backslash or a control character")
    return value


def person_name(value: str, keyword: str) -> str:
    """A single-group Person Name: up to five ``^``-separated components of 64 characters."""
    if _FORBIDDEN_SINGLE_LINE.search(value) or "=" in value:
        raise ValueError(f"{keyword} contains a backslash, '=' or a control character")
    components = value.split("^")
    if len(components) > 5:
        raise ValueError(f"{keyword} has more than five '^'-separated components")
    if any(len(component) > _MAX_PN_COMPONENT for component in components):
        raise ValueError(f"{keyword} has a name component longer than {_MAX_PN_COMPONENT}")
    return value


def uid(value: str, keyword: str) -> str:
    # pydicom's regex, applied directly: building a UID from a bad value would also warn.
    if len(value) > MAX_LENGTH["UI"] or RE_VALID_UID.fullmatch(value) is None:
        raise ValueError(f"{keyword} {value!r} is not a valid DICOM UID")
    return value


def aware(moment: datetime, name: str) -> datetime:
    """``moment`` unchanged, or ``ValueError`` when it carries no UTC offset."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (local time with its UTC offset)")
    return moment


def da(day: date) -> str:
    return day.strftime("%Y%m%d")


def tm(moment: datetime) -> str:
    return moment.strftime("%H%M%S.%f") if moment.microsecond else moment.strftime("%H%M%S")


def utc_offset(moment: datetime) -> str:
    """``+HHMM``/``-HHMM`` as in Timezone Offset From UTC (0008,0201) and DT suffixes."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


def dt(moment: datetime) -> str:
    """DT with its own UTC offset, so it reads right even without (0008,0201)."""
    return f"{da(moment)}{tm(moment)}{utc_offset(moment)}"


def code_item(code: Code) -> Dataset:
    """A Code Sequence Macro item (PS3.3 Table 8.8-1)."""
    item = Dataset()
    if len(code.value) > _MAX_SH_CODE_VALUE:
        item.LongCodeValue = code.value
    else:
        item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme
    item.CodeMeaning = code.meaning
    return item
