"""The PS3.19 Native DICOM Model (XML), written from DICOM JSON objects (PS3.18 F.2).

Answers are built once, as DICOM JSON; this turns each object into the XML document that
``multipart/related; type="application/dicom+xml"`` answers carry, one per part. The two models
hold the same things: values, person names by component group, sequences of items, bulk data
links and inline binary.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from pydicom.datadict import keyword_for_tag

from pointcare.dicom.json_model import JsonObject

NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
_NAME_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")
_NAME_PARTS = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")


def to_xml(dataset: JsonObject) -> bytes:
    """The ``NativeDicomModel`` document of one DICOM JSON object, UTF-8 with its declaration."""
    root = Element("NativeDicomModel", xmlns=NAMESPACE)
    _add_attributes(root, dataset)
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _add_attributes(parent: Element, dataset: JsonObject) -> None:
    for tag, element in sorted(dataset.items()):
        vr = str(element.get("vr", "UN"))
        attribute = SubElement(parent, "DicomAttribute", {"tag": tag, "vr": vr})
        keyword = keyword_for_tag(int(tag, 16))
        if keyword:
            attribute.set("keyword", keyword)
        if "BulkDataURI" in element:
            SubElement(attribute, "BulkData", uri=str(element["BulkDataURI"]))
        elif "InlineBinary" in element:
            SubElement(attribute, "InlineBinary").text = str(element["InlineBinary"])
        for number, value in enumerate(element.get("Value", []), start=1):
            _add_value(attribute, vr, number, value)


def _add_value(attribute: Element, vr: str, number: int, value: Any) -> None:
    if vr == "SQ":
        _add_attributes(SubElement(attribute, "Item", number=str(number)), value)
    elif vr == "PN":
        name = SubElement(attribute, "PersonName", number=str(number))
        for group in _NAME_GROUPS:
            if value.get(group):
                _add_name(SubElement(name, group), str(value[group]))
    else:
        SubElement(attribute, "Value", number=str(number)).text = str(value)


def _add_name(group: Element, text: str) -> None:
    for part, component in zip(_NAME_PARTS, text.split("^"), strict=False):
        if component:
            SubElement(group, part).text = component
