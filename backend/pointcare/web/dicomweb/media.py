"""Media types of DICOMweb answers, and content negotiation on the Accept header (PS3.18 8.7).

This archive never transcodes: an object is served in the transfer syntax it was stored in
(JPEG Baseline, 1.2.840.10008.1.2.4.50, for every photo), so negotiation only decides between
"what we have" and 406 Not Acceptable. A ``multipart/related`` range without a
``transfer-syntax`` parameter gets the stored bytes too: strictly PS3.18 makes that default
Explicit VR Little Endian, but a photo archive that answers 406 to a plain
``multipart/related; type="application/dicom"`` would only get in the way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_406_NOT_ACCEPTABLE

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
JSON = "application/json"
JPEG = "image/jpeg"
MULTIPART_RELATED = "multipart/related"
ANY_TRANSFER_SYNTAX = "*"


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


def require_multipart(
    accept: str | None,
    *,
    part_type: str,
    transfer_syntaxes: Collection[str],
    default_part_type: str,
) -> None:
    """Check that ``multipart/related`` parts of ``part_type``, in the stored
    ``transfer_syntaxes``, are acceptable; 406 with the reason otherwise.

    ``default_part_type`` is what PS3.18 assumes when a range has no ``type`` parameter.
    """
    for media_range in parse_accept(accept):
        if media_range.media_type in {"*", "*/*", "multipart/*"}:
            return
        if media_range.media_type != MULTIPART_RELATED:
            continue
        wanted_type = media_range.params.get("type", default_part_type).lower()
        if not _covers(wanted_type, part_type):
            continue
        wanted_syntax = media_range.params.get("transfer-syntax", ANY_TRANSFER_SYNTAX)
        if wanted_syntax == ANY_TRANSFER_SYNTAX or set(transfer_syntaxes) <= {wanted_syntax}:
            return
    stored = ", ".join(sorted(set(transfer_syntaxes))) or "none"
    raise NotAcceptable(
        detail=(
            f"This archive serves {part_type} parts only in the transfer syntax they were stored "
            f"in ({stored}) and does not transcode: ask for "
            f'multipart/related; type="{part_type}" with transfer-syntax=* or {stored}.'
        )
    )
