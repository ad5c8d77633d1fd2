"""The DICOM JSON Model (PS3.18 F.2): attribute objects keyed by tag, built from keywords.

Tags and VRs come from pydicom's data dictionary, so a QIDO answer names attributes by their
keyword in the code (``"StudyInstanceUID"``) and can never pair a tag with the wrong VR.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

JsonObject = dict[str, dict[str, Any]]
"""One data set in DICOM JSON: ``{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}, ...}``."""

_NUMBER_VRS = frozenset({"IS", "DS", "US", "UL", "SS", "SL", "FL", "FD", "SV", "UV"})


@cache
def tag_and_vr(keyword: str) -> tuple[str, str]:
    """``("0020000D", "UI")`` for ``"StudyInstanceUID"``; ``ValueError`` for an unknown keyword."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"{keyword!r} is not a DICOM attribute keyword")
    return f"{tag:08X}", dictionary_VR(tag)


def _json_value(vr: str, value: Any) -> Any:
    if vr == "PN":
        return {"Alphabetic": str(value)}
    if vr == "SQ":
        return to_dicom_json(value)
    if vr in _NUMBER_VRS:
        return value
    return str(value)


def to_dicom_json(attributes: Mapping[str, Any]) -> JsonObject:
    """A DICOM JSON object from ``{keyword: value}``, ordered by tag.

    A value of ``None`` or ``""`` gives an empty attribute (no ``Value``, F.2.5); a list or
    tuple gives a multi-valued one; a sequence (SQ) takes a list of such mappings.
    """
    result: JsonObject = {}
    for keyword, value in attributes.items():
        tag, vr = tag_and_vr(keyword)
        if vr == "SQ":
            values: Sequence[Any] = [value] if isinstance(value, Mapping) else value or []
        elif isinstance(value, (list, tuple)):
            values = value
        else:
            values = [] if value is None or value == "" else [value]
        element: dict[str, Any] = {"vr": vr}
        if values:
            element["Value"] = [_json_value(vr, item) for item in values]
        result[tag] = element
    return dict(sorted(result.items()))


def merged(*objects: JsonObject) -> JsonObject:
    """The attributes of ``objects`` in one object, ordered by tag (a later object wins)."""
    result: JsonObject = {}
    for item in objects:
        result |= item
    return dict(sorted(result.items()))


def dataset_to_dicom_json(dataset: Dataset, *, bulk_data: Mapping[str, str]) -> JsonObject:
    """A stored data set (read without its pixels) in DICOM JSON; ``bulk_data`` maps keywords of
    the attributes left out (Pixel Data) to the URI where they can be retrieved."""
    result: JsonObject = dataset.to_json_dict()
    for keyword, uri in bulk_data.items():
        tag, vr = tag_and_vr(keyword)
        result[tag] = {"vr": "OB" if vr == "OB or OW" else vr, "BulkDataURI": uri}
    return dict(sorted(result.items()))


def encode(objects: Sequence[JsonObject]) -> bytes:
    """The body of an ``application/dicom+json`` answer: a JSON array, UTF-8."""
    return json.dumps(objects, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
