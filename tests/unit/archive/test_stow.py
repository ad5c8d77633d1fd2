"""STOW-RS answers, read per instance: only what the PACS names as stored counts as stored."""

from __future__ import annotations

import json
from collections.abc import Sequence
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import pytest

from pointcare.archive.protocol import Outcome, OutgoingInstance
from pointcare.archive.stow import read_stow_response, status_meaning, stow_request

A = "1.2.826.0.1.3680043.8.498.1"
B = "1.2.826.0.1.3680043.8.498.2"
C = "1.2.826.0.1.3680043.8.498.3"
DICOM_JSON = "application/dicom+json"
VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"


def referenced(uid: str, warning: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "00081150": {"vr": "UI", "Value": [VL_PHOTO]},
        "00081155": {"vr": "UI", "Value": [uid]},
        "00081190": {"vr": "UR", "Value": [f"http://pacs/dicom-web/studies/1/series/2/{uid}"]},
    }
    if warning is not None:
        item["00081196"] = {"vr": "US", "Value": [warning]}
    return item


def failed(uid: str, reason: int | str) -> dict[str, Any]:
    return {
        "00081150": {"vr": "UI", "Value": [VL_PHOTO]},
        "00081155": {"vr": "UI", "Value": [uid]},
        "00081197": {"vr": "US", "Value": [reason]},
    }


def answer(stored: list[dict[str, Any]], failures: Sequence[dict[str, Any]] = ()) -> bytes:
    body: dict[str, Any] = {"00081190": {"vr": "UR", "Value": ["http://pacs/dicom-web/studies/1"]}}
    if stored:
        body["00081199"] = {"vr": "SQ", "Value": stored}
    if failures:
        body["00081198"] = {"vr": "SQ", "Value": list(failures)}
    return json.dumps(body).encode()


def outcomes(status: int, body: bytes, content_type: str = DICOM_JSON) -> dict[str, Outcome]:
    report = read_stow_response(status, content_type, body, [A, B])
    return {uid: result.outcome for uid, result in report.results.items()}


def test_200_naming_every_instance_stores_them_all() -> None:
    assert outcomes(200, answer([referenced(A), referenced(B)])) == {
        A: Outcome.STORED,
        B: Outcome.STORED,
    }


def test_a_warning_still_counts_as_stored_and_is_kept() -> None:
    report = read_stow_response(
        200, DICOM_JSON, answer([referenced(A, warning=0xB000), referenced(B)]), [A, B]
    )
    assert report.results[A].outcome is Outcome.STORED
    assert report.results[A].reason == "stored with warning B000 (coercion of data elements)"
    assert report.results[B].reason == ""


def test_202_with_a_failed_sop_sequence_splits_stored_from_failed() -> None:
    body = answer([referenced(A)], [failed(B, 0xA700)])
    report = read_stow_response(202, DICOM_JSON, body, [A, B])
    assert report.results[A].outcome is Outcome.STORED
    assert report.results[B].outcome is Outcome.FAILED
    assert report.results[B].reason == "HTTP 202, the PACS refused it: A700 (out of resources)"
    assert report.stored() == [A]


def test_an_instance_a_202_does_not_name_is_unconfirmed() -> None:
    assert outcomes(202, answer([referenced(A)])) == {A: Outcome.STORED, B: Outcome.UNCONFIRMED}


def test_a_200_that_names_an_instance_as_failed_is_believed_over_its_status() -> None:
    # Older Orthanc DICOMweb plugins answer 200 even when an instance failed.
    assert outcomes(200, answer([referenced(A)], [failed(B, "272")])) == {
        A: Outcome.STORED,
        B: Outcome.FAILED,
    }


def test_a_200_without_a_readable_answer_confirms_nothing() -> None:
    assert outcomes(200, b"") == {A: Outcome.UNCONFIRMED, B: Outcome.UNCONFIRMED}
    assert outcomes(200, b"<html>ok</html>", "text/html") == {
        A: Outcome.UNCONFIRMED,
        B: Outcome.UNCONFIRMED,
    }
    report = read_stow_response(200, DICOM_JSON, b"{not json", [A])
    assert "no readable Store Instances Response" in report.results[A].reason


def test_409_stores_none_and_gives_the_reasons() -> None:
    report = read_stow_response(409, DICOM_JSON, answer([], [failed(A, 0x0110)]), [A, B])
    assert report.results[A].outcome is Outcome.FAILED
    assert "0110 (processing failure)" in report.results[A].reason
    assert report.results[B].outcome is Outcome.FAILED
    assert "409" in report.results[B].reason


def test_a_referenced_instance_in_a_409_is_not_taken_as_stored() -> None:
    assert outcomes(409, answer([referenced(A)])) == {A: Outcome.FAILED, B: Outcome.FAILED}


@pytest.mark.parametrize("status", [400, 401, 403, 413, 415])
def test_client_errors_store_nothing(status: int) -> None:
    report = read_stow_response(status, "text/plain", b"refused", [A])
    assert report.results[A].outcome is Outcome.FAILED
    assert report.results[A].reason == f"HTTP {status}: the PACS refused the request"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_leave_every_instance_unconfirmed(status: int) -> None:
    body = b"<html><body>Internal error</body></html>"
    report = read_stow_response(status, "text/html", body, [A, B])
    assert {r.outcome for r in report.results.values()} == {Outcome.UNCONFIRMED}
    assert report.results[A].reason == f"HTTP {status} from the PACS"


def test_instances_the_answer_names_but_we_did_not_send_are_ignored() -> None:
    report = read_stow_response(200, DICOM_JSON, answer([referenced(A), referenced(C)]), [A])
    assert list(report.results) == [A]


def test_a_json_list_holding_one_answer_is_read_too() -> None:
    body = json.dumps([json.loads(answer([referenced(A), referenced(B)]))]).encode()
    assert outcomes(200, body) == {A: Outcome.STORED, B: Outcome.STORED}


def test_the_xml_answer_is_read_like_the_json_one() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xml:space="preserve">
  <DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">
    <Item number="1">
      <DicomAttribute tag="00081155" vr="UI"><Value number="1">{B}</Value></DicomAttribute>
      <DicomAttribute tag="00081197" vr="US"><Value number="1">49152</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence">
    <Item number="1">
      <DicomAttribute tag="00081155" vr="UI"><Value number="1">{A}</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
</NativeDicomModel>""".encode()
    report = read_stow_response(202, "application/dicom+xml", body, [A, B])
    assert report.results[A].outcome is Outcome.STORED
    assert report.results[B].outcome is Outcome.FAILED
    assert "C000 (cannot understand)" in report.results[B].reason


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0xA700, "A700 (out of resources)"),
        (0xA7FF, "A7FF (out of resources)"),
        (0xA900, "A900 (data set does not match SOP Class)"),
        (0xC122, "C122 (transfer syntax not supported)"),
        (0xC001, "C001 (cannot understand)"),
        (0x0122, "0122 (SOP Class not supported)"),
        (0xB006, "B006 (elements discarded)"),
        (0x1234, "1234 (unknown status)"),
    ],
)
def test_status_codes_are_described(code: int, text: str) -> None:
    assert status_meaning(code) == text


def test_the_request_is_multipart_related_with_one_dicom_part_per_instance() -> None:
    objects = [OutgoingInstance(A, b"DICM-first\r\n--not-a-boundary"), OutgoingInstance(B, b"2")]
    request = stow_request(objects)
    assert request.content_type.startswith('multipart/related; type="application/dicom"; ')
    message = BytesParser(policy=compat32).parsebytes(
        f"Content-Type: {request.content_type}\r\n\r\n".encode() + request.body
    )
    parts = message.get_payload()
    assert isinstance(parts, list)
    assert [part["Content-Type"] for part in parts] == ["application/dicom"] * 2
    payloads = [part.get_payload(decode=True) for part in parts if isinstance(part, Message)]
    assert payloads == [b"DICM-first\r\n--not-a-boundary", b"2"]


def test_a_request_needs_an_instance() -> None:
    with pytest.raises(ValueError, match="at least one"):
        stow_request([])
