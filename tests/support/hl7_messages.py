"""HL7 v2 ADT messages for tests, built field by field as a patient administration system sends.

    adt("A01", pid=pid(mrn="X1", name="Öberg^Åsa"), pv1=pv1("V1"))

Segments are joined with CR, as HL7 requires. ``None`` leaves a segment out.
"""

from __future__ import annotations

from collections.abc import Sequence

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
) -> str:
    kind = message_type or f"ADT^{event}^ADT_{event}"
    msh = (
        f"MSH|^~\\&|PAS|GENHOSP|POINTCARE|PHOTO|20260504101500||{kind}|{control_id}|P|{version}"
        + (f"||||||{charset}" if charset else "")
    )
    segments = [msh, f"EVN|{event}|20260504101500", pid, *more, pv1]
    return "\r".join(segment for segment in segments if segment is not None) + "\r"


__all__ = ["OBERG_PID", "adt", "mrg", "pid", "pv1"]
