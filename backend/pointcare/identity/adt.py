"""HL7 v2 ADT messages: what a patient administration system tells us, read into commands.

Pure: bytes in, a command (or an ``AdtError`` saying why not) out, and the acknowledgement text.
The ``hl7`` package splits the message into segments and fields with the separators its MSH
declares, and unescapes values; the rules of each field are here.

What is read (HL7 v2.3 to v2.8, original acknowledgement mode):

- MSH-2 encoding characters (four or five distinct punctuation characters), MSH-9
  ``ADT^<event>`` (or EVN-1 when MSH-9 has no event), MSH-10 control ID, MSH-12 version.
- EVN-2 (recorded date/time), else MSH-7 (date/time of message): when the event happened, so
  that a message older than what the patient record already reflects is not applied. A time
  without a UTC offset is taken as this server's local time.
- A01 admit, A04 register, A08 update: PID-3 identifiers (CX: ``id^^^authority^type``; the
  ``MR``-typed one, else the first; authority namespace, else universal ID, else the default
  issuer), PID-5 name (XPN ``family^given``; the legal name ``L`` when several are given),
  PID-7 birth date (``YYYYMMDD[HHMM...]``; empty: unknown), PID-8 sex (table 0001), PV1-19 visit
  number (empty: the patient has no current visit).
- A28 add person, A31 update person: the same, but they carry no encounter, so a stored visit is
  kept.
- A40 merge: each PID (the surviving patient) with the MRG that follows it; MRG-1 is the prior
  identifier (its authority defaults to the survivor's).

``""`` (the HL7 explicit null) in an optional field clears it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import IntEnum, StrEnum

import hl7

from pointcare.domain.patients import PatientIdentity, Sex, check_identifier, check_name

START_OF_MESSAGE = "MSH"
ACK_SEPARATORS = "|^~\\&"
"""Field separator and encoding characters of the acknowledgements we write."""
RECEIVING_APPLICATION = "POINTCARE"
"""MSH-3 of our acknowledgements when the message named no receiving application."""
DEFAULT_VERSION = "2.5"
MAX_TEXT_MESSAGE = 80
"""MSA-3 (Text Message) holds 80 characters; ERR-7 carries the whole reason."""
HL7_NULL = '""'

_TIMESTAMP = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?([+-]\d{4})?"
)
_BIRTH_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?([+-]\d{4})?")
_SEX_CODES = {"F": Sex.FEMALE, "M": Sex.MALE, "O": Sex.OTHER, "U": Sex.UNKNOWN, "": Sex.UNKNOWN}
_SEX_ALIASES = {"A": Sex.OTHER, "X": Sex.OTHER, "N": Sex.UNKNOWN}
"""Table 0001 codes without a DICOM equivalent: ambiguous and non-binary are "other",
not applicable is "unknown"."""


class AdtEvent(StrEnum):
    """The trigger events we act on (MSH-9.2)."""

    ADMIT = "A01"
    REGISTER = "A04"
    UPDATE = "A08"
    ADD_PERSON = "A28"
    UPDATE_PERSON = "A31"
    MERGE = "A40"

    @property
    def carries_encounter(self) -> bool:
        """Whether the message speaks for the patient's current visit (PV1)."""
        return self in {AdtEvent.ADMIT, AdtEvent.REGISTER, AdtEvent.UPDATE}


class AckCode(StrEnum):
    """MSA-1 in original mode (HL7 table 0008)."""

    ACCEPT = "AA"
    ERROR = "AE"
    """The content is wrong: sending it again will not help."""
    REJECT = "AR"
    """We do not take this kind of message, or could not process it now (try again later)."""


class ErrorCode(IntEnum):
    """ERR-3, HL7 table 0357 (message error condition codes)."""

    SEGMENT_SEQUENCE = 100
    REQUIRED_FIELD_MISSING = 101
    DATA_TYPE = 102
    TABLE_VALUE_NOT_FOUND = 103
    UNSUPPORTED_MESSAGE_TYPE = 200
    UNSUPPORTED_EVENT = 201
    UNSUPPORTED_VERSION = 203
    UNKNOWN_KEY = 204
    INTERNAL_ERROR = 207

    @property
    def label(self) -> str:
        return {
            100: "Segment sequence error",
            101: "Required field missing",
            102: "Data type error",
            103: "Table value not found",
            200: "Unsupported message type",
            201: "Unsupported event code",
            203: "Unsupported version id",
            204: "Unknown key identifier",
            207: "Application internal error",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Header:
    """What the acknowledgement needs from MSH."""

    control_id: str = ""
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    trigger: str = ""
    processing_id: str = "P"
    version: str = DEFAULT_VERSION


class AdtError(ValueError):
    """Why a message cannot be applied, with the acknowledgement it earns."""

    def __init__(
        self,
        reason: str,
        *,
        error: ErrorCode,
        location: str = "",
        ack: AckCode = AckCode.ERROR,
        header: Header | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.location = location
        self.ack = ack
        self.header = header


# --- Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordPatient:
    """Create the patient or bring it up to date (A01, A04, A08, A28, A31)."""

    identity: PatientIdentity
    keep_visit_number: bool
    """True when the message carries no encounter: the stored visit stays."""


@dataclass(frozen=True, slots=True)
class MergePatients:
    """A40: the prior identifier's patient becomes the surviving one."""

    survivor: PatientIdentity
    prior_mrn: str
    prior_issuer: str


AdtCommand = RecordPatient | MergePatients


@dataclass(frozen=True, slots=True)
class AdtMessage:
    header: Header
    event: AdtEvent
    commands: tuple[AdtCommand, ...]
    happened_at: datetime | None = None
    """EVN-2 (recorded date/time), else MSH-7: None when the message gives neither."""


# --- Reading ----------------------------------------------------------------------------------


def parse_adt(data: bytes, *, default_issuer: str) -> AdtMessage:
    """The commands of one ADT message (the bytes inside an MLLP block).

    Raises ``AdtError`` (with ``header`` set whenever MSH could be read) for anything we cannot
    apply: not HL7, a message type, event or version we do not take, a missing segment or field,
    or a value that breaks its rule.
    """
    text = decode(data)
    message = _parse(text)
    header = _header(message)
    try:
        event = _event(message, header)
        commands = _commands(_Fields(message), event, default_issuer)
        return AdtMessage(header, event, commands, _happened_at(message))
    except AdtError as exc:
        exc.header = header
        raise


def decode(data: bytes) -> str:
    """UTF-8 (HL7's preferred character set), or ISO 8859-1 when MSH-18 says so."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    first_segment = data.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = first_segment.split(first_segment[3:4] or b"|")
    charset = fields[17].decode("ascii", "replace").strip() if len(fields) > 17 else ""
    if charset.startswith("8859/1"):
        return data.decode("latin-1")
    raise AdtError(
        "the message is not UTF-8 text; send UTF-8, or ISO 8859-1 declared in MSH-18",
        error=ErrorCode.DATA_TYPE,
        location="MSH-18",
    )


def _parse(text: str) -> hl7.Message:
    # Some senders end segments with CR LF or LF: HL7 separates them with CR alone.
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 \t")
    if not text.startswith(START_OF_MESSAGE) or len(text) < 8:
        raise AdtError(
            "not an HL7 v2 message: it must start with an MSH segment",
            error=ErrorCode.SEGMENT_SEQUENCE,
            location="MSH",
        )
    _check_separators(text)
    try:
        message = hl7.parse(text)
    except Exception as exc:  # the parser raises several kinds on malformed text
        raise AdtError(
            f"the message cannot be parsed as HL7 v2 ({type(exc).__name__})",
            error=ErrorCode.SEGMENT_SEQUENCE,
            location="MSH",
        ) from None
    assert isinstance(message, hl7.Message)
    return message


def _check_separators(text: str) -> None:
    """MSH-1 and MSH-2: a field separator and four (v2.7: five) encoding characters, all
    distinct punctuation. Anything else garbles every field after them."""
    separator = text[3]
    encoding = text[4:].split(separator, 1)[0].split("\r", 1)[0]
    characters = separator + encoding
    if (
        len(encoding) not in (4, 5)
        or len(set(characters)) != len(characters)
        or any(char.isalnum() or char.isspace() for char in characters)
    ):
        raise AdtError(
            f"MSH-1 and MSH-2 must be a field separator and 4 distinct encoding characters "
            f"(such as |^~\\&), not {characters!r}",
            error=ErrorCode.DATA_TYPE,
            location="MSH-2",
        )


def _header(message: hl7.Message) -> Header:
    fields = _Fields(message)
    msh = fields.segments("MSH")[0]
    return Header(
        control_id=fields.value(msh, 10),
        sending_application=fields.value(msh, 3),
        sending_facility=fields.value(msh, 4),
        receiving_application=fields.value(msh, 5),
        receiving_facility=fields.value(msh, 6),
        trigger=fields.value(msh, 9, component=2),
        processing_id=fields.value(msh, 11) or "P",
        version=fields.value(msh, 12) or DEFAULT_VERSION,
    )


def _event(message: hl7.Message, header: Header) -> AdtEvent:
    fields = _Fields(message)
    msh = fields.segments("MSH")[0]
    message_type = fields.value(msh, 9)
    if not message_type:
        raise AdtError(
            "MSH-9 (message type) is empty; send ADT^<event>",
            error=ErrorCode.REQUIRED_FIELD_MISSING,
            location="MSH-9",
        )
    if message_type != "ADT":
        raise AdtError(
            f"message type {message_type or '(empty)'!r} is not taken here; send ADT",
            error=ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            location="MSH-9",
            ack=AckCode.REJECT,
        )
    if not header.version.startswith("2."):
        raise AdtError(
            f"HL7 version {header.version!r} is not taken here; send v2.x",
            error=ErrorCode.UNSUPPORTED_VERSION,
            location="MSH-12",
            ack=AckCode.REJECT,
        )
    evn = fields.segments("EVN")
    trigger = header.trigger or (fields.value(evn[0], 1) if evn else "")
    if not trigger:
        raise AdtError(
            "no trigger event: neither MSH-9.2 nor EVN-1 names one",
            error=ErrorCode.REQUIRED_FIELD_MISSING,
            location="MSH-9.2",
        )
    try:
        return AdtEvent(trigger)
    except ValueError:
        taken = ", ".join(event.value for event in AdtEvent)
        raise AdtError(
            f"event {trigger or '(empty)'!r} is not taken here (taken: {taken})",
            error=ErrorCode.UNSUPPORTED_EVENT,
            location="MSH-9.2",
            ack=AckCode.REJECT,
        ) from None


def _commands(fields: _Fields, event: AdtEvent, default_issuer: str) -> tuple[AdtCommand, ...]:
    pids = fields.segments("PID")
    if not pids:
        raise AdtError(
            f"ADT^{event.value} has no PID segment",
            error=ErrorCode.SEGMENT_SEQUENCE,
            location="PID",
        )
    if event is AdtEvent.MERGE:
        merges = fields.segments("MRG")
        if len(merges) != len(pids):
            raise AdtError(
                f"ADT^A40 needs one MRG after each PID ({len(pids)} PID, {len(merges)} MRG)",
                error=ErrorCode.SEGMENT_SEQUENCE,
                location="MRG",
            )
        return tuple(
            _merge(fields, pid, mrg, default_issuer) for pid, mrg in zip(pids, merges, strict=True)
        )
    if len(pids) > 1:
        raise AdtError(
            f"ADT^{event.value} has {len(pids)} PID segments; one is expected",
            error=ErrorCode.SEGMENT_SEQUENCE,
            location="PID",
        )
    pv1 = fields.segments("PV1")
    keep_visit = not event.carries_encounter or not pv1
    visit = None if keep_visit else _visit_number(fields, pv1[0])
    identity = _identity(fields, pids[0], default_issuer, visit)
    return (RecordPatient(identity, keep_visit_number=keep_visit),)


def _merge(
    fields: _Fields, pid: hl7.Segment, mrg: hl7.Segment, default_issuer: str
) -> MergePatients:
    survivor = _identity(fields, pid, default_issuer, None)
    prior_mrn, prior_issuer = _identifier(fields, mrg, 1, "MRG-1", survivor.issuer)
    if (prior_mrn, prior_issuer) == (survivor.mrn, survivor.issuer):
        raise AdtError(
            f"MRG-1 names the surviving patient itself ({prior_mrn}, {prior_issuer})",
            error=ErrorCode.UNKNOWN_KEY,
            location="MRG-1",
        )
    return MergePatients(survivor, prior_mrn, prior_issuer)


def _identity(
    fields: _Fields, pid: hl7.Segment, default_issuer: str, visit_number: str | None
) -> PatientIdentity:
    mrn, issuer = _identifier(fields, pid, 3, "PID-3", default_issuer)
    family, given = _name(fields, pid)
    birth_date = _birth_date(fields.value(pid, 7))
    sex = _sex(fields.value(pid, 8))
    try:
        return PatientIdentity(
            mrn=mrn,
            issuer=issuer,
            family_name=family,
            given_name=given,
            birth_date=birth_date,
            sex=sex,
            visit_number=visit_number,
        )
    except ValueError as exc:  # the one rule across fields left: a birth date in the future
        raise AdtError(str(exc), error=ErrorCode.DATA_TYPE, location="PID-7") from None


def _identifier(
    fields: _Fields, segment: hl7.Segment, number: int, where: str, default_issuer: str
) -> tuple[str, str]:
    """(ID, assigning authority) of a CX list: the MR-typed repetition, else the first."""
    repetitions = [rep for rep in fields.repetitions(segment, number) if _component(rep, 1)]
    if not repetitions:
        raise AdtError(
            f"{where} (patient identifier) is empty",
            error=ErrorCode.REQUIRED_FIELD_MISSING,
            location=where,
        )
    chosen = next((rep for rep in repetitions if _component(rep, 5) == "MR"), repetitions[0])
    authority = _component(chosen, 4, 1) or _component(chosen, 4, 2) or default_issuer
    try:
        return (
            check_identifier(_component(chosen, 1), f"{where} identifier"),
            check_identifier(authority, f"{where} assigning authority"),
        )
    except ValueError as exc:
        raise AdtError(str(exc), error=ErrorCode.DATA_TYPE, location=where) from None


def _name(fields: _Fields, pid: hl7.Segment) -> tuple[str, str]:
    names = [rep for rep in fields.repetitions(pid, 5) if _component(rep, 1, 1)]
    if not names:
        raise AdtError(
            "PID-5 (patient name) has no family name",
            error=ErrorCode.REQUIRED_FIELD_MISSING,
            location="PID-5",
        )
    legal = next((rep for rep in names if _component(rep, 7) == "L"), names[0])
    try:
        family = check_name(_component(legal, 1, 1), "PID-5 family name")
        given_raw = _component(legal, 2)
        given = check_name(given_raw, "PID-5 given name") if given_raw.strip() else ""
    except ValueError as exc:
        raise AdtError(str(exc), error=ErrorCode.DATA_TYPE, location="PID-5") from None
    return family, given


def _happened_at(message: hl7.Message) -> datetime | None:
    """EVN-2 (when the event was recorded), else MSH-7 (when the message was made)."""
    fields = _Fields(message)
    evn = fields.segments("EVN")
    recorded = _timestamp(fields.value(evn[0], 2), "EVN-2") if evn else None
    return recorded or _timestamp(fields.value(fields.segments("MSH")[0], 7), "MSH-7")


def _timestamp(raw: str, where: str) -> datetime | None:
    """An HL7 DTM (``YYYYMMDD[HH[MM[SS[.S]]]][+/-ZZZZ]``) as an aware datetime; None when
    empty. Without an offset it is this server's local time."""
    value = raw.strip()
    if value in {"", HL7_NULL}:
        return None
    found = _TIMESTAMP.fullmatch(value)
    if found is not None:
        year, month, day, hour, minute, second, fraction, offset = found.groups()
        try:
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")[:6]),
            )
            if offset is None:
                return moment.astimezone()  # local time, made aware
            minutes = int(offset[1:3]) * 60 + int(offset[3:5])
            zone = timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))
            return moment.replace(tzinfo=zone)
        except ValueError:
            pass
    raise AdtError(
        f"{where} {value!r} is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])",
        error=ErrorCode.DATA_TYPE,
        location=where,
    )


def _birth_date(raw: str) -> date | None:
    value = raw.strip()
    if value in {"", HL7_NULL}:
        return None
    found = _BIRTH_DATE.fullmatch(value)
    if found is not None:
        try:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            pass
    raise AdtError(
        f"PID-7 birth date {value!r} is not a date of the form YYYYMMDD[HHMM[SS]]",
        error=ErrorCode.DATA_TYPE,
        location="PID-7",
    )


def _sex(raw: str) -> Sex:
    value = raw.strip().upper()
    if value == HL7_NULL:
        return Sex.UNKNOWN
    sex = _SEX_CODES.get(value) or _SEX_ALIASES.get(value)
    if sex is None:
        raise AdtError(
            f"PID-8 sex {raw!r} is not a code of HL7 table 0001 (F, M, O, U, A, N, X)",
            error=ErrorCode.TABLE_VALUE_NOT_FOUND,
            location="PID-8",
        )
    return sex


def _visit_number(fields: _Fields, pv1: hl7.Segment) -> str | None:
    value = fields.value(pv1, 19)
    if value in {"", HL7_NULL}:
        return None
    try:
        return check_identifier(value, "PV1-19 visit number")
    except ValueError as exc:
        raise AdtError(str(exc), error=ErrorCode.DATA_TYPE, location="PV1-19") from None


Repetition = list[list[str]]
"""One repetition of a field: components, each a list of subcomponents (unescaped)."""


def _component(repetition: Repetition, component: int, subcomponent: int | None = None) -> str:
    """A component (1-based) of a repetition; its first subcomponent, or the one asked for."""
    if component > len(repetition):
        return ""
    parts = repetition[component - 1]
    index = (subcomponent or 1) - 1
    return parts[index].strip() if index < len(parts) else ""


class _Fields:
    """Uniform access to the fields of a parsed message, whatever their nesting.

    The ``hl7`` containers nest a field as text, or as repetitions of components of
    subcomponents, depending on what the field holds; this reads the field's text back and
    splits it with the message's own separators, then unescapes each value.
    """

    def __init__(self, message: hl7.Message) -> None:
        self.message = message
        separators = str(message.separators)
        self._repetition = separators[2]
        self._component = separators[3]
        self._subcomponent = separators[4] if len(separators) > 4 else "&"

    def segments(self, name: str) -> Sequence[hl7.Segment]:
        return [segment for segment in self.message if str(segment[0]) == name]

    def raw(self, segment: hl7.Segment, number: int) -> str:
        # MSH-1 is the field separator itself, so MSH field n sits at index n, like the others.
        return str(segment[number]) if number < len(segment) else ""

    def repetitions(self, segment: hl7.Segment, number: int) -> list[Repetition]:
        text = self.raw(segment, number)
        if str(segment[0]) == "MSH" and number <= 2:
            return [[[text]]]
        return [
            [
                [self._unescape(sub) for sub in component.split(self._subcomponent)]
                for component in repetition.split(self._component)
            ]
            for repetition in text.split(self._repetition)
        ]

    def value(self, segment: hl7.Segment, number: int, *, component: int = 1) -> str:
        """A field's first repetition's component (its first subcomponent), unescaped."""
        repetitions = self.repetitions(segment, number)
        return _component(repetitions[0], component) if repetitions else ""

    def _unescape(self, text: str) -> str:
        return str(self.message.unescape(text)) if self.message.esc in text else text


# --- Answering --------------------------------------------------------------------------------


def acknowledgement(
    header: Header | None,
    code: AckCode,
    *,
    reason: str = "",
    error: ErrorCode | None = None,
    location: str = "",
    now: datetime,
    control_id: str | None = None,
) -> str:
    """The ACK for a message (``header`` None when not even its MSH could be read).

    MSA-3 carries the reason (cut to 80 characters), and an ERR segment (v2.5 layout: location,
    HL7 error code from table 0357, severity, diagnostic text) when something went wrong.
    """
    source = header or Header()
    msh = [
        "MSH",
        ACK_SEPARATORS[1:],
        source.receiving_application or RECEIVING_APPLICATION,
        source.receiving_facility,
        source.sending_application,
        source.sending_facility,
        f"{now:%Y%m%d%H%M%S}",
        "",
        f"ACK^{escape(source.trigger)}^ACK" if source.trigger else "ACK",
        control_id or secrets.token_hex(10),
        source.processing_id,
        source.version,
    ]
    # Values are escaped as components of our own ACK: they came from another message.
    segments = [
        "|".join([msh[0], msh[1], *map(escape, msh[2:8]), msh[8], *map(escape, msh[9:])]),
        "|".join(
            ["MSA", code.value, escape(source.control_id), escape(reason[:MAX_TEXT_MESSAGE])]
        ).rstrip("|"),
    ]
    if error is not None:
        where = "^".join(_location_parts(location))
        segments.append(
            "|".join(
                [
                    "ERR",
                    "",
                    where,
                    f"{error.value}^{error.label}^HL70357",
                    "E",
                    "",
                    "",
                    escape(reason),
                ]
            )
        )
    return "\r".join(segments) + "\r"


def escape(text: str) -> str:
    """``text`` as an HL7 value with our separators: delimiters escaped, line breaks dropped."""
    text = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    escaped = text.replace("\\", "\\E\\")
    for char, sequence in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        escaped = escaped.replace(char, sequence)
    return escaped


def _location_parts(location: str) -> list[str]:
    """ERR-2 (ERL: segment ID ^ sequence ^ field position ^ ...) from ``PID-7`` style text."""
    found = re.fullmatch(r"([A-Z0-9]{3})(?:-(\d+)(?:\.(\d+))?)?", location)
    if found is None:
        return []
    segment, field, component = found.groups()
    parts = [segment, "1"]
    if field:
        parts.append(field)
        if component:
            parts += ["1", component]
    return parts


def read_header(data: bytes) -> Header | None:
    """MSH of a message that will not be read in full (too large): for the refusal's ACK."""
    try:
        return _header(_parse(data.decode("utf-8", "replace").split("\r", 1)[0]))
    except (AdtError, IndexError, ValueError):
        return None


__all__ = [
    "AckCode",
    "AdtCommand",
    "AdtError",
    "AdtEvent",
    "AdtMessage",
    "ErrorCode",
    "Header",
    "MergePatients",
    "RecordPatient",
    "acknowledgement",
    "decode",
    "escape",
    "parse_adt",
    "read_header",
]
