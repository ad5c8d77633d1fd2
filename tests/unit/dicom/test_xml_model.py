"""The PS3.19 XML model written from DICOM JSON, read back by the reader of PACS answers."""

from __future__ import annotations

from xml.etree import ElementTree

from pointcare.dicom.json_model import to_dicom_json, xml_to_json
from pointcare.dicom.xml_model import NAMESPACE, to_xml


def test_values_names_sequences_and_links() -> None:
    dataset = to_dicom_json(
        {
            "PatientName": "Öberg^Åsa",
            "StudyInstanceUID": "1.2.3",
            "NumberOfStudyRelatedInstances": 2,
            "ModalitiesInStudy": ["DOC", "XC"],
            "AccessionNumber": None,
            "AnatomicRegionSequence": [{"CodeValue": "14975008", "CodingSchemeDesignator": "SCT"}],
        }
    )
    dataset["7FE00010"] = {"vr": "OB", "BulkDataURI": "http://h/x/bulkdata/7FE00010"}
    document = to_xml(dataset)
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ElementTree.fromstring(document)  # noqa: S314 - our own document
    assert root.tag == f"{{{NAMESPACE}}}NativeDicomModel"
    name = root.find(f"{{{NAMESPACE}}}DicomAttribute[@keyword='PatientName']")
    assert name is not None and name.get("tag") == "00100010" and name.get("vr") == "PN"
    family = name.find(f".//{{{NAMESPACE}}}FamilyName")
    assert family is not None and family.text == "Öberg"
    back = xml_to_json(document)
    assert back["0020000D"]["Value"] == ["1.2.3"]
    assert back["00080061"]["Value"] == ["DOC", "XC"]
    assert back["00201208"]["Value"] == ["2"]
    assert back["00080050"]["Value"] == []
    assert back["00082218"]["Value"][0]["00080100"]["Value"] == ["14975008"]
    link = root.find(f"{{{NAMESPACE}}}DicomAttribute[@tag='7FE00010']/{{{NAMESPACE}}}BulkData")
    assert link is not None and link.get("uri") == "http://h/x/bulkdata/7FE00010"
    tags = [attribute.get("tag") for attribute in root]
    assert tags == sorted(tags)
