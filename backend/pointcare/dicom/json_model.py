"""The DICOM JSON Model (PS3.18 F.2), both ways: what we answer, and what a PACS answers us.

Ours are built from keywords: tags and VRs come from pydicom's data dictionary, so a QIDO
answer names attributes by their keyword in the code (``"StudyInstanceUID"``) and can never pair
a tag with the wrong VR. Theirs are read leniently (a missing attribute is an empty list): the
answer comes from another system, and one odd attribute must not hide the others; STOW-RS
answers may come in the XML model (PS3.19) too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from xml.etree import ElementTree

import msgspec
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

JsonObject = dict[str, dict[str, Any]]
"""One data set in DICOM JSON: ``{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}, ...}``."""
ReceivedObject = dict[str, Any]
"""A data set in DICOM JSON as another system sent it: nothing about its shape is assumed."""

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
        elif value is None or value == "":
            result[tag] = {"vr": vr}
            continue
        else:  # one value, the common case, without the list and the loop (searches build many)
            result[tag] = {"vr": vr, "Value": [_json_value(vr, value)]}
            continue
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
    """The body of an ``application/dicom+json`` answer: a JSON array, UTF-8, compact. The
    bytes are those of ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` (but for
    a tiny decimal's exponent: 1e-7, not 1e-07), made by msgspec in a twentieth of the time: a
    study list holds a hundred objects."""
    return _ENCODER.encode(objects)


def _plain(value: object) -> str | int | float:
    """pydicom's values (``UID``, ``IS``, ``DSfloat``...) as the built-in type they extend, as
    ``json.dumps`` writes them; msgspec asks for these, having no encoding of its own."""
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    raise TypeError(f"{type(value).__name__} has no DICOM JSON encoding")


_ENCODER = msgspec.json.Encoder(enc_hook=_plain)


# --- Reading what a PACS answers -------------------------------------------------------------

NATIVE_MODEL_NS = "{http://dicom.nema.org/PS3.19/models/NativeDICOM}"


def values(obj: ReceivedObject, tag: str) -> list[Any]:
    """The ``Value`` list of attribute ``tag`` (8 hex digits), or ``[]``."""
    element = obj.get(tag)
    if not isinstance(element, dict):
        return []
    found = element.get("Value")
    return found if isinstance(found, list) else []


def first_text(obj: ReceivedObject, tag: str) -> str:
    """The first value of a string attribute, or ``""``."""
    found = values(obj, tag)
    return str(found[0]) if found and isinstance(found[0], str | int | float) else ""


def first_int(obj: ReceivedObject, tag: str) -> int | None:
    found = values(obj, tag)
    if not found:
        return None
    try:
        return int(found[0])
    except (TypeError, ValueError):
        return None


def items(obj: ReceivedObject, tag: str) -> list[ReceivedObject]:
    """The items of a sequence attribute."""
    return [item for item in values(obj, tag) if isinstance(item, dict)]


def parse_json_objects(body: bytes) -> list[ReceivedObject]:
    """A DICOM JSON answer: a list of objects (QIDO) or one object (STOW). ``ValueError`` if
    the body is not that."""
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not DICOM JSON: {exc}") from None
    if isinstance(parsed, dict):
        return [parsed]
    if isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed):
        return parsed
    raise ValueError("not DICOM JSON: neither an object nor a list of objects")


def xml_to_json(body: bytes) -> ReceivedObject:
    """A PS3.19 Native DICOM Model document as the equivalent DICOM JSON object (strings,
    numbers and sequences only: all a STOW-RS answer holds). ``ValueError`` if unreadable."""
    try:
        # The answer comes from the configured PACS; expat (>= 2.4) bounds entity expansion.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ValueError(f"not DICOM XML: {exc}") from None
    return _xml_dataset(root)


def _xml_dataset(element: ElementTree.Element) -> ReceivedObject:
    result: ReceivedObject = {}
    for attribute in element:
        if attribute.tag.removeprefix(NATIVE_MODEL_NS) != "DicomAttribute":
            continue
        tag = attribute.get("tag", "").upper()
        vr = attribute.get("vr", "")
        if vr == "SQ":
            found: list[Any] = [
                _xml_dataset(item)
                for item in attribute
                if item.tag.removeprefix(NATIVE_MODEL_NS) == "Item"
            ]
        else:
            found = [
                value.text or ""
                for value in attribute
                if value.tag.removeprefix(NATIVE_MODEL_NS) == "Value"
            ]
        result[tag] = {"vr": vr, "Value": found}
    return result
