"""STOW-RS requests read part by part, and the Store Instances Response built from what became
of each object (PS3.18 10.5)."""

from __future__ import annotations

import io
import json

import pydicom
import pytest

from pointcare.dicom import store_status as status
from pointcare.dicom.json_model import dataset_to_dicom_json
from pointcare.errors import InvalidInput, UnsupportedMediaType
from pointcare.intake.received import Identified, ReceivedObject
from pointcare.intake.service import Refusal
from pointcare.web.dicomweb.stow_answer import StoredInstance, stow_answer
from pointcare.web.dicomweb.stow_request import received_objects
from tests.support.tools import corpus
from tests.unit.intake.test_received import MAX_PIXELS, photo_object

BOUNDARY = "b0undary"


def body(*parts: tuple[str, bytes, str | None]) -> bytes:
    pieces = []
    for content_type, data, location in parts:
        head = f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\n"
        if location:
            head += f"Content-Location: {location}\r\n"
        pieces.append(head.encode() + b"\r\n" + data + b"\r\n")
    return b"".join(pieces) + f"--{BOUNDARY}--\r\n".encode()


def related(root: str) -> str:
    return f'multipart/related; type="{root}"; boundary={BOUNDARY}'


def test_binary_objects_are_read_each_on_its_own() -> None:
    good = photo_object()
    found = received_objects(
        related("application/dicom"),
        body(("application/dicom", good, None), ("application/dicom", b"junk", None)),
        max_pixels=MAX_PIXELS,
    )
    first, second = found
    assert isinstance(first, ReceivedObject) and first.part10 == good
    assert isinstance(second, Refusal) and second.code == status.CANNOT_UNDERSTAND
    assert second.identified == Identified()


def test_json_metadata_with_jpeg_bulk_data() -> None:
    template = pydicom.dcmread(io.BytesIO(photo_object()))
    metadata = dataset_to_dicom_json(template, bulk_data={"PixelData": "jpeg/1"})
    other = dict(metadata, **{"00080018": {"vr": "UI", "Value": ["1.2.826.0.1.3680043.8.498.9"]}})
    other["7FE00010"] = {"vr": "OB", "BulkDataURI": "jpeg/missing"}
    jpeg = corpus("photos", "gps", "DSCN0010.jpg").read_bytes()
    found = received_objects(
        related("application/dicom+json"),
        body(
            ("application/dicom+json", json.dumps([metadata, other]).encode(), None),
            ("image/jpeg", jpeg, "jpeg/1"),
        ),
        max_pixels=MAX_PIXELS,
    )
    made, refused = found
    assert isinstance(made, ReceivedObject) and made.converted
    assert isinstance(refused, Refusal)
    assert refused.identified.sop_instance_uid == "1.2.826.0.1.3680043.8.498.9"
    assert "BulkDataURI" in refused.reason


@pytest.mark.parametrize(
    ("content_type", "problem"),
    [
        ("application/dicom", UnsupportedMediaType),
        ('multipart/related; type="application/dicom+xml"; boundary=x', UnsupportedMediaType),
        ('multipart/related; type="application/dicom"', InvalidInput),
        (related("application/dicom"), InvalidInput),  # a body without parts
    ],
)
def test_a_body_that_is_not_a_stow_request_is_refused_whole(
    content_type: str, problem: type[Exception]
) -> None:
    with pytest.raises(problem):
        received_objects(content_type, b"nothing here", max_pixels=MAX_PIXELS)


STORED = StoredInstance("1.2.840.10008.5.1.4.1.1.77.1.4", "1.2.3.4", "1.2.3", "1.2.3.1")
REFUSED = Refusal(
    Identified("1.2.840.10008.5.1.4.1.1.7", "1.2.3.5"),
    status.SOP_CLASS_NOT_SUPPORTED,
    "SOP Class 1.2.840.10008.5.1.4.1.1.7 is not stored here.",
)
SERVICE = "https://pointcare.example/dicomweb"


@pytest.mark.parametrize(
    ("stored", "refused", "code"),
    [([STORED], [], 200), ([STORED], [REFUSED], 202), ([], [REFUSED], 409)],
)
def test_the_status_says_how_much_was_stored(
    stored: list[StoredInstance], refused: list[Refusal], code: int
) -> None:
    assert stow_answer(stored, refused, service=SERVICE, target_study=None)[0] == code


def test_the_response_names_every_object() -> None:
    _, answer = stow_answer([STORED], [REFUSED], service=SERVICE, target_study=None)
    back = pydicom.Dataset.from_json(answer)
    assert back.RetrieveURL == f"{SERVICE}/studies/1.2.3"
    [stored] = back.ReferencedSOPSequence
    assert stored.ReferencedSOPInstanceUID == "1.2.3.4"
    assert stored.RetrieveURL == f"{SERVICE}/studies/1.2.3/series/1.2.3.1/instances/1.2.3.4"
    [failed] = back.FailedSOPSequence
    assert (failed.ReferencedSOPInstanceUID, failed.FailureReason) == ("1.2.3.5", 0x0122)
    assert answer["00081198"]["Value"][0]["00000902"]["Value"] == [REFUSED.reason]
