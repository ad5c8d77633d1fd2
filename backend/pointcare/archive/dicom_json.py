"""Reading answers of a PACS: DICOM JSON (PS3.18 F.2) and, for STOW-RS, the XML model (PS3.19).

Values are taken leniently (a missing attribute is an empty list): the answer comes from
another system, and one odd attribute must not hide the others.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

JsonObject = dict[str, Any]

NATIVE_MODEL_NS = "{http://dicom.nema.org/PS3.19/models/NativeDICOM}"


def values(obj: JsonObject, tag: str) -> list[Any]:
    """The ``Value`` list of attribute ``tag`` (8 hex digits), or ``[]``."""
    element = obj.get(tag)
    if not isinstance(element, dict):
        return []
    found = element.get("Value")
    return found if isinstance(found, list) else []


def first_text(obj: JsonObject, tag: str) -> str:
    """The first value of a string attribute, or ``""``."""
    found = values(obj, tag)
    return str(found[0]) if found and isinstance(found[0], str | int | float) else ""


def first_int(obj: JsonObject, tag: str) -> int | None:
    found = values(obj, tag)
    if not found:
        return None
    try:
        return int(found[0])
    except (TypeError, ValueError):
        return None


def items(obj: JsonObject, tag: str) -> list[JsonObject]:
    """The items of a sequence attribute."""
    return [item for item in values(obj, tag) if isinstance(item, dict)]


def parse_json_objects(body: bytes) -> list[JsonObject]:
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


def xml_to_json(body: bytes) -> JsonObject:
    """A PS3.19 Native DICOM Model document as the equivalent DICOM JSON object (strings,
    numbers and sequences only: all a STOW-RS answer holds). ``ValueError`` if unreadable."""
    try:
        # The answer comes from the configured PACS; expat (>= 2.4) bounds entity expansion.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ValueError(f"not DICOM XML: {exc}") from None
    return _xml_dataset(root)


def _xml_dataset(element: ElementTree.Element) -> JsonObject:
    result: JsonObject = {}
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
