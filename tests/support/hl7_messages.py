"""HL7 v2 ADT messages for tests, built field by field as a patient administration system sends.

    adt("A01", pid=pid(mrn="X1", name="Öberg^Åsa"), pv1=pv1("V1"))

Segments are joined with CR, as HL7 requires. ``None`` leaves a segment out.
"""

from __future__ import annotations

from collections.abc import Sequence

import hl7

OBERG_PID = "PID|1||PC100001^^^PCDEMO^MR||Öberg^Åsa||19570314|F"


def pid(
    *,
    identifiers: str = "X1^^^HOSP^MR",
    name: str = "Öberg^Åsa",
    birth_date: str = "19570314",
    sex: str = "F",
) -> str:
    return f"PID|1||{identifiers}||{name}||{birth_date}|{sex}"


def pv1(visit_number: str = "V1") -> str:
    # PV1-2 patient class, PV1-19 visit number: 16 empty fields between them.
    return "PV1|1|I" + "|" * 17 + visit_number


def mrg(prior: str = "X0^^^HOSP^MR") -> str:
    return f"MRG|{prior}"


def adt(
    event: str = "A01",
    *,
    pid: str | None = OBERG_PID,
    pv1: str | None = None,
    more: Sequence[str] = (),
    message_type: str | None = None,
    version: str = "2.5",
    control_id: str = "MSG00001",
    charset: str = "",
    sent_at: str = "20260504101500",
    recorded_at: str = "20260504101500",
) -> str:
    """``sent_at`` is MSH-7 (the message's time), ``recorded_at`` EVN-2 (the event's)."""
    kind = message_type or f"ADT^{event}^ADT_{event}"
    msh = f"MSH|^~\\&|PAS|GENHOSP|POINTCARE|PHOTO|{sent_at}||{kind}|{control_id}|P|{version}" + (
        f"||||||{charset}" if charset else ""
    )
    segments = [msh, f"EVN|{event}|{recorded_at}", pid, *more, pv1]
    return "\r".join(segment for segment in segments if segment is not None) + "\r"


def ack_of(reply: bytes) -> hl7.Message:
    assert reply.startswith(b"\x0b") and reply.endswith(b"\x1c\x0d"), reply
    message = hl7.parse(reply[1:-2].decode("utf-8"))
    assert str(message.segment("MSH")[9]).startswith("ACK")
    return message


def code(ack: hl7.Message) -> str:
    return str(ack.segment("MSA")[1])


def reason(ack: hl7.Message) -> str:
    return str(ack.unescape(str(ack.segment("MSA")[3])))


__all__ = ["OBERG_PID", "ack_of", "adt", "code", "mrg", "pid", "pv1", "reason"]
