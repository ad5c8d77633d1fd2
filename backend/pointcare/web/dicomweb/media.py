"""Media types of DICOMweb answers, and content negotiation on the Accept header (PS3.18 8.7).

Each kind of resource has its own chooser, which walks the Accept header's ranges in order of
preference and returns the first representation we can make, or raises 406 with the reason:

* objects (study, series, instance): ``multipart/related; type="application/dicom"``, by default
  in Explicit VR Little Endian (PS3.18 8.7.3.5.2), as stored for ``transfer-syntax=*`` or for the
  stored syntax itself; a single instance may also be asked for as bare ``application/dicom``;
* frames and bulk data: uncompressed ``application/octet-stream`` by default, the stored JPEG
  as ``image/jpeg``;
* rendered: ``image/jpeg`` (default) or ``image/png``, one image for an instance or a frame, a
  ``multipart/related`` of images for a study or a series (PS3.18 10.4.4: single-part types
  only name single items);
* searches and metadata: ``application/dicom+json`` (default), or
  ``multipart/related; type="application/dicom+xml"`` (one PS3.19 document per part).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_406_NOT_ACCEPTABLE
from pydicom.uid import ExplicitVRLittleEndian

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
DICOM_XML = "application/dicom+xml"
JSON = "application/json"
JPEG = "image/jpeg"
PNG = "image/png"
OCTET_STREAM = "application/octet-stream"
MULTIPART_RELATED = "multipart/related"
ANY_TRANSFER_SYNTAX = "*"
UNCOMPRESSED = str(ExplicitVRLittleEndian)
"""The default transfer syntax of DICOM objects and of uncompressed frames (PS3.18 8.7.3.5.2)."""

RENDERED_TYPES = (JPEG, PNG)
"""Rendered media types we make, the default first."""

_DEFAULT_SYNTAX = {DICOM: UNCOMPRESSED, OCTET_STREAM: UNCOMPRESSED}
_WILDCARDS = frozenset({"*", "*/*", "multipart/*"})


class NotAcceptable(HTTPException):
    """406: the caller asked only for representations this archive cannot produce."""

    status_code = HTTP_406_NOT_ACCEPTABLE


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One entry of an Accept header: ``type/subtype`` and its parameters (names lower-cased)."""

    media_type: str
    params: dict[str, str] = field(default_factory=dict)

    def covers(self, media_type: str) -> bool:
        """Whether this range admits ``media_type`` (``*/*``, ``image/*`` or the type itself)."""
        return _covers(self.media_type, media_type)

    @property
    def is_wildcard(self) -> bool:
        return self.media_type in _WILDCARDS

    def part_type(self, default: str) -> str | None:
        """The ``type`` a ``multipart/related`` range asks its parts to have (``default`` when it
        names none); None for a range that is not multipart."""
        if self.media_type == MULTIPART_RELATED:
            return self.params.get("type", default).lower()
        return default if self.is_wildcard else None


@dataclass(frozen=True, slots=True)
class Representation:
    """What an answer (or each of its parts) will be."""

    media_type: str
    multipart: bool
    transfer_syntax: str | None = None
    """The transfer syntax to send; None: each object's own, as stored."""


def _covers(pattern: str, media_type: str) -> bool:
    if pattern in {"*", "*/*"}:
        return True
    major, _, minor = pattern.partition("/")
    return pattern == media_type or (minor == "*" and media_type.startswith(major + "/"))


def _split_outside_quotes(text: str, separator: str) -> Iterator[str]:
    start, quoted = 0, False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            yield text[start:index]
            start = index + 1
    yield text[start:]


def parse_accept(header: str | None) -> list[MediaRange]:
    """The ranges of an Accept header, most preferred first; ``q=0`` ranges are dropped.

    A missing or empty header accepts anything (RFC 9110 12.5.1).
    """
    if header is None or not header.strip():
        return [MediaRange("*/*")]
    weighted: list[tuple[float, int, MediaRange]] = []
    for position, item in enumerate(_split_outside_quotes(header, ",")):
        media_type, *raw_params = (part.strip() for part in _split_outside_quotes(item, ";"))
        if not media_type:
            continue
        params: dict[str, str] = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 1.0
        if quality > 0:
            weighted.append((-quality, position, MediaRange(media_type.lower(), params)))
    return [media_range for _, _, media_range in sorted(weighted, key=lambda w: (w[0], w[1]))]


def require_single(accept: str | None, *offered: str) -> str:
    """The first of ``offered`` that the Accept header admits; 406 when none is."""
    for media_range in parse_accept(accept):
        for media_type in offered:
            if media_range.covers(media_type):
                return media_type
    raise NotAcceptable(detail=f"This resource is available only as {' or '.join(offered)}.")


AS_STORED = ""
"""A target transfer syntax meaning "each object's own"."""


def _syntax_wanted(media_range: MediaRange, part_type: str) -> str:
    return media_range.params.get("transfer-syntax", _DEFAULT_SYNTAX.get(part_type, "")).strip()


def _object_syntax(wanted: str, stored: Collection[str], convertible: bool) -> str | None:
    """What to send for ``wanted``: ``AS_STORED``, a syntax to transcode to, or None (cannot)."""
    if wanted == ANY_TRANSFER_SYNTAX or set(stored) <= {wanted}:
        return AS_STORED
    return UNCOMPRESSED if wanted == UNCOMPRESSED and convertible else None


def _single_part(media_range: MediaRange, offered: Collection[str]) -> str | None:
    """The offered type a single-part range (not ``*/*``, not multipart) admits, if any."""
    if media_range.is_wildcard or media_range.media_type == MULTIPART_RELATED:
        return None
    return next((media_type for media_type in offered if media_range.covers(media_type)), None)


def choose_objects(
    accept: str | None, *, stored: Collection[str], convertible: bool, single: bool
) -> Representation:
    """How to send DICOM objects whose stored syntaxes are ``stored``. ``convertible``: every one
    can be transcoded to Explicit VR Little Endian; ``single``: the resource is one instance (the
    only one that may be sent as bare ``application/dicom``)."""
    for media_range in parse_accept(accept):
        single_type = _single_part(media_range, [DICOM]) if single else None
        part_type = media_range.part_type(DICOM)
        if single_type is None and (part_type is None or not _covers(part_type, DICOM)):
            continue
        syntax = _object_syntax(_syntax_wanted(media_range, DICOM), stored, convertible)
        if syntax is not None:
            return Representation(DICOM, single_type is None, syntax or None)
    names = ", ".join(sorted(set(stored)))
    raise NotAcceptable(
        detail=(
            f'Ask for multipart/related; type="{DICOM}" with transfer-syntax=* (as stored: '
            f"{names}) or {UNCOMPRESSED}"
            + ("" if convertible else " (not available: an object here cannot be decoded)")
            + "."
        )
    )


def choose_frames(
    accept: str | None, *, stored: str, stored_media_type: str | None, single: bool
) -> Representation:
    """How to send frames stored in syntax ``stored``. ``stored_media_type``: the media type the
    stored frames are in (``image/jpeg``), None when they can only be sent decoded; ``single``:
    one frame is asked for, so a single-part answer is allowed."""
    offered = [OCTET_STREAM] + ([stored_media_type] if stored_media_type else [])
    for media_range in parse_accept(accept):
        single_type = _single_part(media_range, offered) if single else None
        wanted_type = media_range.part_type(OCTET_STREAM)
        candidates = (
            [single_type]
            if single_type
            else [t for t in offered if wanted_type is not None and _covers(wanted_type, t)]
        )
        for media_type in candidates:
            syntax = _frame_syntax(media_range, media_type, stored, stored_media_type)
            if syntax is not None:
                return Representation(media_type, single_type is None, syntax or None)
    raise NotAcceptable(
        detail=(
            f'Ask for multipart/related; type="{OCTET_STREAM}" (uncompressed, {UNCOMPRESSED}, '
            f"or transfer-syntax=* as stored: {stored})"
            + (f' or type="{stored_media_type}"' if stored_media_type else "")
            + "."
        )
    )


def _frame_syntax(
    media_range: MediaRange, media_type: str, stored: str, stored_media_type: str | None
) -> str | None:
    """What to send frames in for this range: ``AS_STORED``, a syntax, or None (cannot)."""
    if media_type == OCTET_STREAM:
        wanted = _syntax_wanted(media_range, OCTET_STREAM)
        if wanted in {ANY_TRANSFER_SYNTAX, stored}:
            return AS_STORED
        return UNCOMPRESSED if wanted == UNCOMPRESSED else None
    wanted = media_range.params.get("transfer-syntax", stored)
    return AS_STORED if media_type == stored_media_type and wanted in {stored, "*"} else None


def choose_document(accept: str | None, mime_type: str) -> Representation:
    """How to send an encapsulated document (its bulk data): in its own media type (a PDF as
    ``application/pdf``) or as ``application/octet-stream``, alone or as the one part of a
    ``multipart/related`` answer (the default for bulk data)."""
    offered = (OCTET_STREAM, mime_type)
    for media_range in parse_accept(accept):
        single_type = _single_part(media_range, offered)
        if single_type is not None:
            return Representation(single_type, multipart=False)
        wanted_type = media_range.part_type(OCTET_STREAM)
        for media_type in offered:
            if wanted_type is not None and _covers(wanted_type, media_type):
                return Representation(media_type, multipart=True)
    raise NotAcceptable(detail=f"This document is available as {mime_type} or {OCTET_STREAM}.")


def choose_rendered(accept: str | None, *, single: bool) -> Representation:
    """The rendered media type: one image for an instance or a frame (``single``), a
    ``multipart/related`` of images for a study or a series."""
    for media_range in parse_accept(accept):
        single_type = _single_part(media_range, RENDERED_TYPES)
        if single_type is not None:
            if single:
                return Representation(single_type, multipart=False)
            continue  # PS3.18 10.4.4: a single-part type cannot carry a study's images
        wanted_type = media_range.part_type(JPEG)
        for media_type in RENDERED_TYPES:
            if wanted_type is not None and _covers(wanted_type, media_type):
                multipart = media_range.media_type == MULTIPART_RELATED or not single
                return Representation(media_type, multipart=multipart)
    kinds = " or ".join(RENDERED_TYPES)
    raise NotAcceptable(
        detail=f"Rendered images are {kinds}"
        + ("." if single else f', as multipart/related; type="{JPEG}" (or "{PNG}"): one per image.')
    )


def choose_structured(accept: str | None) -> Representation:
    """DICOM JSON (one array) or the PS3.19 XML model (one part per data set)."""
    for media_range in parse_accept(accept):
        if media_range.media_type in {DICOM_JSON, JSON} or (
            media_range.covers(DICOM_JSON) and media_range.media_type != MULTIPART_RELATED
        ):
            media_type = JSON if media_range.media_type == JSON else DICOM_JSON
            return Representation(media_type, multipart=False)
        if media_range.media_type == MULTIPART_RELATED and _covers(
            media_range.params.get("type", DICOM_XML).lower(), DICOM_XML
        ):
            return Representation(DICOM_XML, multipart=True)
    raise NotAcceptable(
        detail=f'Answers are {DICOM_JSON}, or multipart/related; type="{DICOM_XML}".'
    )
