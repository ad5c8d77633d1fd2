"""Reading HL7 v2 ADT messages into commands, and the acknowledgements (no database)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime

import hl7
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointcare.domain.patients import Sex
from pointcare.identity.adt import (
    AckCode,
    AdtError,
    AdtEvent,
    ErrorCode,
    Header,
    MergePatients,
    RecordPatient,
    acknowledgement,
    parse_adt,
    read_header,
)
from tests.support.hl7_messages import adt, mrg, pid, pv1

NOW = datetime(2026, 5, 4, 8, 15, tzinfo=UTC)


def read(text: str | bytes, default_issuer: str = "DEFAULT") -> RecordPatient:
    data = text.encode("utf-8") if isinstance(text, str) else text
    message = parse_adt(data, default_issuer=default_issuer)
    [command] = message.commands
    assert isinstance(command, RecordPatient)
    return command


def refusal(text: str | bytes) -> AdtError:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(AdtError) as refused:
        parse_adt(data, default_issuer="DEFAULT")
    return refused.value


# --- What is read -----------------------------------------------------------------------------


def test_an_admission_gives_the_whole_identity_and_the_visit() -> None:
    message = parse_adt(adt("A01", pid=pid(), pv1=pv1("V0042")).encode(), default_issuer="DEFAULT")
    assert message.event is AdtEvent.ADMIT
    assert message.header.control_id == "MSG00001"
    assert message.header.sending_application == "PAS"
    [command] = message.commands
    assert isinstance(command, RecordPatient)
    identity = command.identity
    assert (identity.mrn, identity.issuer) == ("X1", "HOSP")
    assert (identity.family_name, identity.given_name) == ("Öberg", "Åsa")
    assert identity.birth_date == date(1957, 3, 14)
    assert identity.sex is Sex.FEMALE
    assert identity.visit_number == "V0042"
    assert command.keep_visit_number is False


@pytest.mark.parametrize(
    ("identifiers", "expected"),
    [
        ("999^^^SSA^SS~X1^^^HOSP^MR", ("X1", "HOSP")),  # the MR-typed one, wherever it is
        ("X1^^^HOSP^PI~X2^^^HOSP^PI", ("X1", "HOSP")),  # no MR: the first
        ("X1^^^&1.2.840.999&ISO^MR", ("X1", "1.2.840.999")),  # universal ID when no namespace
        ("X1^^^^MR", ("X1", "DEFAULT")),  # no authority: the default issuer
        ("X1", ("X1", "DEFAULT")),
        ("^^^HOSP^MR~X9^^^OTHER^PI", ("X9", "OTHER")),  # an empty ID does not count
    ],
)
def test_the_patient_identifier_is_chosen_from_pid_3(
    identifiers: str, expected: tuple[str, str]
) -> None:
    identity = read(adt(pid=pid(identifiers=identifiers))).identity
    assert (identity.mrn, identity.issuer) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Öberg^Åsa", ("Öberg", "Åsa")),
        ("O'Brien^Seán^Patrick^^Mr", ("O'Brien", "Seán")),
        ("Smith&Sm^John", ("Smith", "John")),  # FN subcomponents: surname first
        ("Alias^Al^^^^^A~Legal^Lee^^^^^L", ("Legal", "Lee")),  # the legal name when several
        ("Nguyen", ("Nguyen", "")),
        ("Ross\\T\\Co^Ann", ("Ross&Co", "Ann")),  # escape sequences are undone
    ],
)
def test_the_name_is_family_then_given(name: str, expected: tuple[str, str]) -> None:
    identity = read(adt(pid=pid(name=name))).identity
    assert (identity.family_name, identity.given_name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19570314", date(1957, 3, 14)),
        ("195703140830", date(1957, 3, 14)),
        ("19570314083012.5+0100", date(1957, 3, 14)),
        ("", None),
        ('""', None),  # the HL7 explicit null
    ],
)
def test_the_birth_date(value: str, expected: date | None) -> None:
    assert read(adt(pid=pid(birth_date=value))).identity.birth_date == expected


SEX_CODES = [("F", Sex.FEMALE), ("m", Sex.MALE), ("O", Sex.OTHER), ("U", Sex.UNKNOWN)]
SEX_CODES += [("", Sex.UNKNOWN), ("A", Sex.OTHER), ("X", Sex.OTHER), ("N", Sex.UNKNOWN)]


@pytest.mark.parametrize(("code", "sex"), SEX_CODES)
def test_the_sex_codes_of_table_0001(code: str, sex: Sex) -> None:
    assert read(adt(pid=pid(sex=code))).identity.sex is sex


@pytest.mark.parametrize("event", ["A28", "A31"])
def test_person_events_keep_the_stored_visit(event: str) -> None:
    command = read(adt(event, pid=pid(), pv1=pv1("V7")))
    assert command.keep_visit_number is True
    assert command.identity.visit_number is None


def test_a_registration_with_an_empty_visit_number_clears_the_visit() -> None:
    command = read(adt("A04", pid=pid(), pv1=pv1("")))
    assert (command.keep_visit_number, command.identity.visit_number) == (False, None)


def test_an_update_without_pv1_keeps_the_visit() -> None:
    command = read(adt("A08", pid=pid(), pv1=None))
    assert command.keep_visit_number is True


def test_the_event_may_come_from_evn_when_msh_9_has_none() -> None:
    message = parse_adt(adt("A08", message_type="ADT").encode(), default_issuer="D")
    assert message.event is AdtEvent.UPDATE


def test_line_feeds_between_segments_are_taken() -> None:
    text = adt(pid=pid(), pv1=pv1("V1")).replace("\r", "\r\n")
    assert read(text).identity.visit_number == "V1"


def test_latin_1_declared_in_msh_18() -> None:
    data = adt(pid=pid(name="Öberg^Åsa"), charset="8859/1").encode("latin-1")
    assert read(data).identity.family_name == "Öberg"


def test_a_merge_names_the_survivor_and_the_prior_identifier() -> None:
    message = parse_adt(
        adt("A40", pid=pid(identifiers="NEW1^^^HOSP^MR"), more=[mrg("OLD1^^^HOSP^MR")]).encode(),
        default_issuer="D",
    )
    [command] = message.commands
    assert isinstance(command, MergePatients)
    assert (command.survivor.mrn, command.prior_mrn, command.prior_issuer) == (
        "NEW1",
        "OLD1",
        "HOSP",
    )


def test_a_merge_without_an_authority_takes_the_survivors() -> None:
    message = parse_adt(
        adt("A40", pid=pid(identifiers="NEW1^^^HOSP^MR"), more=[mrg("OLD1")]).encode(),
        default_issuer="D",
    )
    [command] = message.commands
    assert isinstance(command, MergePatients)
    assert command.prior_issuer == "HOSP"


def test_a_merge_of_several_patients() -> None:
    text = adt(
        "A40",
        pid=pid(identifiers="NEW1^^^H^MR"),
        more=[mrg("OLD1^^^H^MR"), pid(identifiers="NEW2^^^H^MR"), mrg("OLD2^^^H^MR")],
    )
    commands = parse_adt(text.encode(), default_issuer="D").commands
    assert [(c.survivor.mrn, c.prior_mrn) for c in commands if isinstance(c, MergePatients)] == [
        ("NEW1", "OLD1"),
        ("NEW2", "OLD2"),
    ]


# --- What is refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ack", "error", "location"),
    [
        ("this is not HL7", AckCode.ERROR, ErrorCode.SEGMENT_SEQUENCE, "MSH"),
        ("", AckCode.ERROR, ErrorCode.SEGMENT_SEQUENCE, "MSH"),
        (
            adt(message_type="ORU^R01^ORU_R01"),
            AckCode.REJECT,
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            "MSH-9",
        ),
        (adt("A03"), AckCode.REJECT, ErrorCode.UNSUPPORTED_EVENT, "MSH-9.2"),
        (adt(version="3.0"), AckCode.REJECT, ErrorCode.UNSUPPORTED_VERSION, "MSH-12"),
        (adt(pid=None), AckCode.ERROR, ErrorCode.SEGMENT_SEQUENCE, "PID"),
        (adt(pid="PID|1||||Doe^John"), AckCode.ERROR, ErrorCode.REQUIRED_FIELD_MISSING, "PID-3"),
        (adt(pid=pid(name="")), AckCode.ERROR, ErrorCode.REQUIRED_FIELD_MISSING, "PID-5"),
        (adt(pid=pid(name="^John")), AckCode.ERROR, ErrorCode.REQUIRED_FIELD_MISSING, "PID-5"),
        (adt(pid=pid(birth_date="19801301")), AckCode.ERROR, ErrorCode.DATA_TYPE, "PID-7"),
        (adt(pid=pid(birth_date="1980")), AckCode.ERROR, ErrorCode.DATA_TYPE, "PID-7"),
        (adt(pid=pid(birth_date="yesterday")), AckCode.ERROR, ErrorCode.DATA_TYPE, "PID-7"),
        (adt(pid=pid(birth_date="29991231")), AckCode.ERROR, ErrorCode.DATA_TYPE, "PID-7"),
        (adt(pid=pid(sex="Q")), AckCode.ERROR, ErrorCode.TABLE_VALUE_NOT_FOUND, "PID-8"),
        (adt(pid=pid(identifiers="X" * 65)), AckCode.ERROR, ErrorCode.DATA_TYPE, "PID-3"),
        (adt("A40"), AckCode.ERROR, ErrorCode.SEGMENT_SEQUENCE, "MRG"),
        (
            adt("A40", pid=pid(identifiers="X1^^^H^MR"), more=[mrg("X1^^^H^MR")]),
            AckCode.ERROR,
            ErrorCode.UNKNOWN_KEY,
            "MRG-1",
        ),
        (adt("A40", more=[mrg("")]), AckCode.ERROR, ErrorCode.REQUIRED_FIELD_MISSING, "MRG-1"),
    ],
)
def test_bad_messages_are_refused_with_the_reason(
    text: str, ack: AckCode, error: ErrorCode, location: str
) -> None:
    refused = refusal(text)
    assert (refused.ack, refused.error, refused.location) == (ack, error, location)
    assert refused.reason
    if text.startswith("MSH"):
        assert refused.header is not None
        assert refused.header.control_id == "MSG00001"


def test_text_that_is_not_utf8_and_declares_nothing_is_refused() -> None:
    refused = refusal(adt(pid=pid(name="Öberg^Åsa")).encode("latin-1"))
    assert (refused.error, refused.location) == (ErrorCode.DATA_TYPE, "MSH-18")


@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_never_crash(data: bytes) -> None:
    with contextlib.suppress(AdtError):
        parse_adt(data, default_issuer="D")


@given(st.text(alphabet="|^~\\&ADTMSHPIDMRGV01234\r\n ", max_size=200))
def test_any_hl7_like_text_is_read_or_refused_never_crash(tail: str) -> None:
    with contextlib.suppress(AdtError):
        parse_adt(("MSH|^~\\&|" + tail).encode(), default_issuer="D")


# --- Acknowledgements -------------------------------------------------------------------------


def parsed_ack(text: str) -> hl7.Message:
    assert text.endswith("\r")
    message = hl7.parse(text)
    assert isinstance(message, hl7.Message)
    return message


def field(message: hl7.Message, segment: str, number: int) -> str:
    """The raw text of a field, still escaped."""
    return str(message.segment(segment)[number])


def test_an_accept_swaps_sender_and_receiver_and_echoes_the_control_id() -> None:
    header = parse_adt(adt().encode(), default_issuer="D").header
    ack = parsed_ack(acknowledgement(header, AckCode.ACCEPT, now=NOW, control_id="ACK1"))
    assert field(ack, "MSH", 3) == "POINTCARE"
    assert field(ack, "MSH", 5) == "PAS"
    assert field(ack, "MSH", 6) == "GENHOSP"
    assert field(ack, "MSH", 7) == "20260504081500"
    assert field(ack, "MSH", 9) == "ACK^A01^ACK"
    assert field(ack, "MSH", 10) == "ACK1"
    assert field(ack, "MSH", 12) == "2.5"
    assert field(ack, "MSA", 1) == "AA"
    assert field(ack, "MSA", 2) == "MSG00001"
    assert [str(segment[0]) for segment in ack] == ["MSH", "MSA"]


def test_an_error_carries_the_reason_escaped_and_an_err_segment() -> None:
    reason = "PID-7 birth date '1980|13' is not a date ^ & ~ \\ here"
    text = acknowledgement(
        Header(control_id="C1", trigger="A01"),
        AckCode.ERROR,
        reason=reason,
        error=ErrorCode.DATA_TYPE,
        location="PID-7",
        now=NOW,
    )
    ack = parsed_ack(text)
    assert field(ack, "MSA", 1) == "AE"
    assert field(ack, "MSA", 2) == "C1"
    assert ack.unescape(field(ack, "MSA", 3)) == reason[:80]
    assert field(ack, "ERR", 2) == "PID^1^7"
    assert field(ack, "ERR", 3) == "102^Data type error^HL70357"
    assert field(ack, "ERR", 4) == "E"
    assert ack.unescape(field(ack, "ERR", 7)) == reason


def test_an_unreadable_message_still_gets_an_acknowledgement() -> None:
    ack = parsed_ack(
        acknowledgement(None, AckCode.ERROR, reason="not HL7", error=ErrorCode(100), now=NOW)
    )
    assert field(ack, "MSA", 1) == "AE"
    assert field(ack, "MSA", 2) == ""
    assert field(ack, "MSH", 9) == "ACK"


def test_the_header_of_a_message_cut_short() -> None:
    data = adt(control_id="BIG1").encode()[:200]
    header = read_header(data)
    assert header is not None
    assert header.control_id == "BIG1"
    assert read_header(b"\x00garbage") is None
