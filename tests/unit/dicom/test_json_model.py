"""The DICOM JSON answers we encode: the bytes the standard library would give, for any text."""

from __future__ import annotations

import json

from pydicom.uid import UID
from pydicom.valuerep import IS, DSfloat

from pointcare.dicom.json_model import encode, to_dicom_json

AWKWARD = [
    "Öberg^Åsa",  # beyond ASCII: written as UTF-8, not escaped
    'quote " backslash \\ slash /',
    "controls \x00 \x01 \x1f \x7f and a tab\t",
    "line separators \u2028 \u2029 and </script>",
    "astral \U0001f9b6",
    "",
]


def _reference(objects: list[dict[str, object]]) -> bytes:
    return json.dumps(objects, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_an_answer_is_the_bytes_the_standard_library_would_give() -> None:
    objects = [
        to_dicom_json(
            {
                "PatientName": text or None,
                "StudyDescription": text,
                "NumberOfStudyRelatedInstances": number,
                "ModalitiesInStudy": ["XC", "DOC"],
            }
        )
        for number, text in enumerate(AWKWARD)
    ]
    assert encode(objects) == _reference(objects)
    assert json.loads(encode(objects)) == objects


def test_pydicom_values_are_written_as_the_types_they_extend() -> None:
    objects = [
        {
            "0020000D": {"vr": "UI", "Value": [UID("1.2.3")]},
            "00200013": {"vr": "IS", "Value": [IS("7")]},
            "00280030": {"vr": "DS", "Value": [DSfloat("0.25"), DSfloat("12.5")]},
        }
    ]
    assert encode(objects) == _reference(objects)


def test_a_tiny_decimal_is_the_same_number_in_a_shorter_exponent() -> None:
    objects = [{"00280030": {"vr": "DS", "Value": [DSfloat(1e-7)]}}]
    assert encode(objects) == b'[{"00280030":{"vr":"DS","Value":[1e-7]}}]'  # json: 1e-07
    assert json.loads(encode(objects)) == json.loads(_reference(objects))


def test_no_match_is_an_empty_array() -> None:
    assert encode([]) == b"[]"
