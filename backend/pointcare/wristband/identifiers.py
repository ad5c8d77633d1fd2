"""Wristband payloads: which patient identifier a decoded barcode text carries.

Pure rules, no I/O. Out of the box a wristband may carry:

* a **plain MRN**: the whole text (blanks trimmed) when it matches the MRN pattern;
* a **prefixed MRN**: ``MRN:``, ``PID:`` or ``PID-3:`` then the MRN, optionally in the HL7 v2 CX
  form ``MRN^^^ISSUER`` that also names the assigning authority (a bare CX is accepted too);
* a **GS1 element string** with a GSRN under AI (8018), the GS1 healthcare wristband: from a
  GS1-128, GS1 DataMatrix or GS1 QR code (FNC1 shown as the ``]C1``/``]d2``/``]Q3`` symbology
  identifier, a leading GS, or GS separators), or in the human-readable bracketed form
  ``(8018)123456789012345675``. Other AIs around it are skipped by their GS1 lengths.

A GSRN is a complete 18-digit key (GS1 company prefix, serial reference, check digit). It is
looked up as the patient's identifier as it stands, check digit included, under the configured
GSRN issuer (or under any issuer when none is configured): a hospital that prints GSRNs keeps
them as the patient identifier in the directory. Nothing is guessed from parts of the number,
because where the company prefix ends cannot be known without GS1's prefix tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_messages import GS1Message

from pointcare.domain.patients import check_identifier


class WristbandRule(StrEnum):
    """The rule that recognised a wristband payload."""

    PLAIN = "plain"
    PREFIXED = "prefixed"
    HL7_CX = "hl7-cx"
    GS1_GSRN = "gs1-gsrn"


@dataclass(frozen=True, slots=True)
class WristbandId:
    """The patient identifier a wristband carries; ``issuer`` None means any issuer."""

    mrn: str
    issuer: str | None
    rule: WristbandRule


class UnrecognisedWristband(ValueError):
    """No rule matches the payload; the message says why and which formats are expected."""

    def __init__(self, reason: str, expected: Sequence[str]) -> None:
        self.reason = reason
        self.expected = tuple(expected)
        super().__init__(f"{reason} Expected one of: {'; '.join(self.expected)}.")


class WristbandConfigError(ValueError):
    """A wristband rule setting is unusable; ``option`` names it (``prefixes``...)."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(message)


# --- GS1 element strings ----------------------------------------------------------------------

GS = "\x1d"
"""ASCII group separator: how readers transmit FNC1 inside a GS1 element string."""

GSRN_AI = "8018"
"""GS1 Application Identifier of the Global Service Relation Number (recipient), 18 digits."""

GSRN_LENGTH = 18

GS1_SYMBOLOGY_IDENTIFIERS = frozenset({"]C1", "]d2", "]d5", "]Q3", "]Q4", "]e0", "]J1"})
"""AIM symbology identifiers that announce GS1 data (FNC1 in first position): GS1-128, GS1
DataMatrix (with and without ECI), GS1 QR Code (with and without ECI), GS1 DataBar, GS1 DotCode."""

_AIM_IDENTIFIER = re.compile(r"\][A-Za-z][0-9A-Za-z]")


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (everything but the check digit itself)."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"a GS1 key is made of digits, got {digits!r}")
    # Weights 3, 1, 3, 1... from the rightmost digit leftwards.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gsrn_with_check_digit(first_17: str) -> str:
    """A GSRN from its first 17 digits (company prefix and serial reference)."""
    if len(first_17) != GSRN_LENGTH - 1:
        raise ValueError(f"a GSRN has 17 digits before its check digit, got {len(first_17)}")
    return first_17 + str(gs1_check_digit(first_17))


def is_valid_gsrn(value: str) -> bool:
    return (
        len(value) == GSRN_LENGTH
        and value.isascii()
        and value.isdigit()
        and gs1_check_digit(value[:-1]) == int(value[-1])
    )


def needs_separator(ai: str) -> bool:
    """Whether an element string with this AI must be followed by FNC1 when another comes next
    (its data has no predefined length)."""
    return _ai(ai).separator_required


def element_string(elements: Iterable[tuple[str, str]]) -> str:
    """The element string (FNC1 as GS, without the leading FNC1) of (AI, value) pairs."""
    parts: list[str] = []
    items = list(elements)
    for index, (ai, value) in enumerate(items):
        parts.append(ai + value)
        if index < len(items) - 1 and needs_separator(ai):
            parts.append(GS)
    data = "".join(parts)
    parse_element_string(data)  # refuses what the pairs got wrong
    return data


def parse_element_string(data: str) -> list[tuple[str, str]]:
    """(AI, value) pairs of a GS1 element string whose FNC1s are GS characters (biip reads it
    against GS1's table of Application Identifiers, lengths and character sets).

    Raises ``ValueError``, in plain words, for an unknown AI, a wrong length or a missing
    separator.
    """
    if not data.strip(GS):
        raise ValueError("the GS1 element string is empty")
    with _plain_words():
        message = GS1Message.parse(data.lstrip(GS))
    return _elements(message)


def parse_bracketed(text: str) -> list[tuple[str, str]]:
    """(AI, value) pairs of the human-readable form ``(8018)123456789012345675(8019)12``;
    spaces, which are not in the GS1 character set, come from typing or printing and are
    dropped."""
    if not text.startswith("("):
        raise ValueError("the text does not start with a bracketed GS1 Application Identifier")
    with _plain_words():
        message = GS1Message.parse_hri(text.replace(" ", ""))
    elements = _elements(message)
    # biip passes over a bracketed AI with nothing after it: say which one was empty.
    written = _BRACKETED_AI.findall(text)
    for index, ai in enumerate(written):
        if index >= len(elements) or elements[index][0] != ai:
            raise ValueError(f"({ai}) {_holds(ai)}, got none")
    return elements


def _elements(message: GS1Message) -> list[tuple[str, str]]:
    elements = [(element.ai.ai, element.value) for element in message.element_strings]
    for ai, value in elements:
        if not value:
            raise ValueError(f"({ai}) {_holds(ai)}, got none")
    return elements


_NO_MATCH = re.compile(r"Failed to match '(?P<data>[^']*)' with GS1 AI \((?P<ai>\d+)\)")
_UNKNOWN = re.compile(r"Unknown GS1 Application Identifier '(?P<ai>\d+)'")
_NO_AI = re.compile(r"Failed to get GS1 Application Identifier from '(?P<data>[^']*)'")
_DATA_FORMAT = re.compile(r"(?P<kind>[NX])(?P<upto>\.\.)?(?P<length>\d+)")


@contextmanager
def _plain_words() -> Iterator[None]:
    """biip's refusals, said as the rest of this module says them (no patterns, no regexes)."""
    try:
        yield
    except ParseError as exc:
        text = str(exc)
        if found := _NO_MATCH.search(text):
            ai = found["ai"]
            raise ValueError(f"({ai}) {_holds(ai)}, got {found['data'][len(ai) :]!r}") from None
        if found := _UNKNOWN.search(text):
            raise ValueError(f"({found['ai']}) is not a GS1 Application Identifier") from None
        if found := _NO_AI.search(text):
            raise ValueError(
                f"no GS1 Application Identifier at {found['data'][:4]!r}: an element is too "
                "long, or a separator is missing"
            ) from None
        raise ValueError(f"not valid GS1 data ({text})") from None


def _holds(ai: str) -> str:
    """What the data of ``ai`` must be: "holds exactly 18 digits", "holds 1 to 20 characters"."""
    data_format = _ai(ai).format.split("+", 1)[-1]
    found = _DATA_FORMAT.fullmatch(data_format)
    if found is None:
        return f"holds data of the form {data_format}"
    what = "digits" if found["kind"] == "N" else "characters"
    if found["upto"]:
        return f"holds 1 to {found['length']} {what}"
    return f"holds exactly {found['length']} {what}"


_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


def _ai(ai: str) -> GS1ApplicationIdentifier:
    try:
        return GS1ApplicationIdentifier.extract(ai)
    except ParseError:
        raise ValueError(f"({ai}) is not a GS1 Application Identifier") from None


# --- The rules ----------------------------------------------------------------------------------

DEFAULT_PREFIXES: tuple[str, ...] = ("MRN:", "PID:", "PID-3:")
DEFAULT_MRN_PATTERN = r"[A-Za-z0-9-]{3,20}"
MAX_PAYLOAD_LENGTH = 4096
"""Longer texts are refused unread (a QR code holds at most about 7,000 characters)."""

_BLANKS = " \t\r\n"
"""Trimmed from both ends. Not str.strip(): Python counts GS (FNC1) as whitespace."""

_NO_PREFIXES = "none"

_Parser = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class WristbandRules:
    """Which payloads identify a patient; build it with :meth:`from_config` from settings."""

    prefixes: tuple[str, ...] = DEFAULT_PREFIXES
    mrn_pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(DEFAULT_MRN_PATTERN))
    gsrn_issuer: str | None = None

    @classmethod
    def from_config(cls, *, prefixes: str, mrn_pattern: str, gsrn_issuer: str) -> WristbandRules:
        """Rules from setting values: comma-separated prefixes (``none`` for no prefixed form),
        a regular expression an MRN must match in full, and the issuer of GSRNs (blank: any)."""
        if prefixes.strip().lower() == _NO_PREFIXES:
            parsed: tuple[str, ...] = ()
        else:
            parsed = tuple(p.strip() for p in prefixes.split(",") if p.strip())
            if not parsed:
                raise WristbandConfigError("prefixes", "give at least one prefix, or 'none'")
        try:
            compiled = re.compile(mrn_pattern)
        except re.error as exc:
            raise WristbandConfigError(
                "mrn_pattern", f"{mrn_pattern!r} is not a regular expression ({exc})"
            ) from None
        issuer = gsrn_issuer.strip() or None
        if issuer is not None:
            try:
                check_identifier(issuer, "the GSRN issuer")
            except ValueError as exc:
                raise WristbandConfigError("gsrn_issuer", str(exc)) from None
        return cls(prefixes=parsed, mrn_pattern=compiled, gsrn_issuer=issuer)

    def expected_formats(self) -> tuple[str, ...]:
        """What a wristband may carry, in words for the person scanning it."""
        formats = [f"a plain MRN matching {self.mrn_pattern.pattern}"]
        if self.prefixes:
            listed = _or_list(self.prefixes)
            formats.append(f"{listed} followed by the MRN (HL7 style MRN^^^ISSUER allowed)")
        formats.append(f"a GS1 code with a patient GSRN, AI ({GSRN_AI})")
        return tuple(formats)

    def read(self, text: str, *, symbology_identifier: str | None = None) -> WristbandId:
        """The patient identifier in a decoded wristband text.

        ``symbology_identifier`` is the decoder's AIM identifier (``]C1`` means GS1-128...);
        without it one at the start of ``text`` is used, as keyboard-wedge scanners send it.
        Raises :class:`UnrecognisedWristband` when no rule matches.
        """
        if len(text) > MAX_PAYLOAD_LENGTH:
            raise self._unrecognised("The barcode holds far more text than a wristband does.")
        payload = text.strip(_BLANKS)
        identifier = symbology_identifier
        if payload.startswith("]") and _AIM_IDENTIFIER.match(payload):
            identifier = identifier or payload[:3]
            payload = payload[3:].strip(_BLANKS)
        if not payload.strip(_BLANKS + GS):
            raise self._unrecognised("The barcode is empty.")
        if _BRACKETED_AI.match(payload):
            return self._gsrn(payload, parse_bracketed)
        if identifier in GS1_SYMBOLOGY_IDENTIFIERS or GS in payload:
            return self._gsrn(payload, parse_element_string)
        prefixed = self._after_prefix(payload)
        if prefixed is not None:
            return self._mrn(prefixed, explicit=True)
        if "^" in payload:
            return self._mrn(payload, explicit=False)
        if self.mrn_pattern.fullmatch(payload) and _usable(payload):
            return WristbandId(payload, None, WristbandRule.PLAIN)
        if payload.isascii() and payload.isdigit() and payload.startswith(GSRN_AI):
            # A reader that drops the leading FNC1 leaves a bare element string of digits.
            return self._gsrn(payload, parse_element_string)
        raise self._unrecognised("This barcode is not a patient wristband Pointcare recognises.")

    def _after_prefix(self, payload: str) -> str | None:
        for prefix in sorted(self.prefixes, key=len, reverse=True):
            # Compare the payload's own first characters: casefold() may change lengths ("ß").
            if payload[: len(prefix)].casefold() == prefix.casefold():
                return payload[len(prefix) :].strip(_BLANKS)
        return None

    def _mrn(self, value: str, *, explicit: bool) -> WristbandId:
        rule = WristbandRule.PREFIXED if explicit else WristbandRule.HL7_CX
        if not value:
            raise self._unrecognised("Nothing follows the prefix on this barcode.")
        mrn, issuer = value, None
        if "^" in value:
            rule = WristbandRule.HL7_CX
            mrn, issuer = _cx(value)
        if not self.mrn_pattern.fullmatch(mrn) or not _usable(mrn):
            raise self._unrecognised(f"{_shown(mrn)} is not an MRN.")
        if issuer is not None and not _usable(issuer):
            raise self._unrecognised(f"{_shown(issuer)} is not an assigning authority.")
        return WristbandId(mrn, issuer, rule)

    def _gsrn(self, payload: str, parse: _Parser) -> WristbandId:
        try:
            elements = parse(payload)
        except ValueError as exc:
            raise self._unrecognised(f"The barcode is not valid GS1 data: {exc}.") from None
        gsrns = {value for ai, value in elements if ai == GSRN_AI}
        if not gsrns:
            raise self._unrecognised(
                f"This GS1 barcode carries no patient GSRN, AI ({GSRN_AI}): it is probably a "
                "product or medication label, not a wristband."
            )
        if len(gsrns) > 1:
            raise self._unrecognised("This GS1 barcode carries two different GSRNs.")
        (gsrn,) = gsrns
        if not (gsrn.isascii() and gsrn.isdigit()):
            raise self._unrecognised(f"The GSRN {_shown(gsrn)} is not 18 digits.")
        if not is_valid_gsrn(gsrn):
            raise self._unrecognised(
                f"The GSRN {_shown(gsrn)} fails its check digit: the wristband is damaged or "
                "misprinted."
            )
        return WristbandId(gsrn, self.gsrn_issuer, WristbandRule.GS1_GSRN)

    def _unrecognised(self, reason: str) -> UnrecognisedWristband:
        return UnrecognisedWristband(reason, self.expected_formats())


DEFAULT_RULES = WristbandRules()


def read_wristband(
    text: str, rules: WristbandRules = DEFAULT_RULES, *, symbology_identifier: str | None = None
) -> WristbandId:
    """The patient identifier in a decoded wristband text (see :meth:`WristbandRules.read`)."""
    return rules.read(text, symbology_identifier=symbology_identifier)


def _cx(value: str) -> tuple[str, str | None]:
    """(ID, assigning authority) of an HL7 v2 CX value ``ID^check^scheme^authority^type``."""
    components = value.split("^")
    authority = components[3] if len(components) > 3 else ""
    # HD: namespace ID & universal ID & type; the namespace is what the directory calls issuer.
    subcomponents = authority.split("&")
    issuer = subcomponents[0] or (subcomponents[1] if len(subcomponents) > 1 else "")
    return components[0].strip(_BLANKS), issuer.strip(_BLANKS) or None


def _usable(identifier: str) -> bool:
    try:
        check_identifier(identifier, "identifier")
    except ValueError:
        return False
    return True


def _shown(value: str) -> str:
    """``value`` quoted for a message, control characters escaped and long values cut."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


__all__ = [
    "DEFAULT_MRN_PATTERN",
    "DEFAULT_PREFIXES",
    "DEFAULT_RULES",
    "GS",
    "GS1_SYMBOLOGY_IDENTIFIERS",
    "GSRN_AI",
    "UnrecognisedWristband",
    "WristbandConfigError",
    "WristbandId",
    "WristbandRule",
    "WristbandRules",
    "element_string",
    "gs1_check_digit",
    "gsrn_with_check_digit",
    "is_valid_gsrn",
    "needs_separator",
    "parse_bracketed",
    "parse_element_string",
    "read_wristband",
]
