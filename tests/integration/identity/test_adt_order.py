"""ADT messages out of order: one that happened before what the patient record already
reflects (EVN-2, else MSH-7) is acknowledged but not applied, so an old name never returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from pointcare.runtime import Runtime
from tests.integration.identity.conftest import Send
from tests.integration.identity.test_mllp import patient
from tests.support.hl7_messages import adt, code, pid, pv1


def test_an_older_admission_resent_after_an_update_does_not_bring_the_old_name_back(
    send: Send, runtime: Runtime
) -> None:
    old, new = pid(name="Smith^Anna"), pid(name="Jones^Anna")
    admit = adt("A01", pid=old, pv1=pv1("V1"), recorded_at="20260504090000+0000")
    update = adt("A08", pid=new, pv1=pv1("V1"), recorded_at="20260504100000+0000")
    assert code(send(admit)) == "AA"
    assert code(send(update)) == "AA"
    assert code(send(admit)) == "AA"  # resent: nothing to send again, nothing applied
    stored = patient(runtime, "X1")
    assert stored.family_name == "Jones"
    assert stored.adt_event_at == datetime(2026, 5, 4, 10, tzinfo=UTC)

    later = adt("A08", pid=pid(name="Brown^Anna"), recorded_at="20260504110000+0000")
    assert code(send(later)) == "AA"
    assert patient(runtime, "X1").family_name == "Brown"


@pytest.mark.parametrize(
    ("sent_at", "recorded_at", "applied"),
    [
        ("20260504120000+0000", "20260504080000+0000", False),  # EVN-2 wins over MSH-7
        ("20260504080000+0000", "", False),  # no EVN-2: MSH-7, older
        ("20260504120000+0200", "", True),  # 10:00 UTC: as old as the record, applied
        ("20260504100001+0000", "", True),
    ],
)
def test_the_event_time_is_evn_2_else_msh_7_with_its_offset(
    send: Send, runtime: Runtime, sent_at: str, recorded_at: str, applied: bool
) -> None:
    first = adt("A01", pid=pid(name="Smith^Anna"), recorded_at="20260504100000+0000")
    assert code(send(first)) == "AA"
    other = adt("A08", pid=pid(name="Jones^Anna"), sent_at=sent_at, recorded_at=recorded_at)
    assert code(send(other)) == "AA"
    assert patient(runtime, "X1").family_name == ("Jones" if applied else "Smith")


@pytest.mark.parametrize(
    ("message", "location"),
    [
        (adt("A08").replace("ADT^A08^ADT_A08", ""), "MSH^1^9"),
        (adt("A08", message_type="ADT").replace("EVN|A08|", "EVN||"), "MSH^1^9^1^2"),
        (adt("A08").replace("MSH|^~\\&|", "MSH|^~|"), "MSH^1^2"),
        (adt("A08").replace("MSH|^~\\&|", "MSH|^|\\&|"), "MSH^1^2"),
        (adt("A08", recorded_at="2026-05-04"), "EVN^1^2"),
    ],
    ids=["no-message-type", "no-event", "short-encoding", "separator-in-encoding", "bad-time"],
)
def test_a_message_that_cannot_be_read_is_an_error_not_a_rejection(
    send: Send, message: str, location: str
) -> None:
    """AE: sending the same message again will not help (AR would make the engine resend)."""
    counted = REGISTRY.get_sample_value("pointcare_adt_messages_total", {"ack": "AE"}) or 0
    ack = send(message)
    assert code(ack) == "AE"
    assert str(ack.segment("ERR")[2]) == location
    assert REGISTRY.get_sample_value("pointcare_adt_messages_total", {"ack": "AE"}) == counted + 1
