"""Part 10 files: those Pointcare builds, encoded without pydicom's general writer, and the
frame of a stored photo read back.

Byte for byte what ``pydicom.dcmwrite(buffer, ds, enforce_file_format=True)`` writes for them
(tests compare the two on every kind of object we make), for a sixth of the interpreter time:
pydicom's writer handles any transfer syntax, elements read raw from files, ambiguous VRs and
every character set, and pays for that on each element. At ingest it was a fifth of the time a
photo's request held the interpreter lock.

This encoder takes what the builders make and nothing else: file meta information with the
required elements, a data set of DataElements with definite VRs encoded as explicit VR little
endian (which every transfer syntax we write uses for the data set), text in UTF-8
(ISO_IR 192) or plain ASCII. Anything else raises ``ValueError``; a builder that needs more
extends this module, with a test against pydicom.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.encaps import generate_frames
from pydicom.multival import MultiValue
from pydicom.uid import UID

PREAMBLE = b"\x00" * 128
PREFIX = b"DICM"
UTF8_CHARACTER_SET = "ISO_IR 192"
FILE_META_VERSION = b"\x00\x01"

_GROUP_LENGTH = b"\x02\x00\x00\x00UL\x04\x00"
"""(0002,0000) File Meta Information Group Length, UL, 4 bytes: its value follows."""
_ITEM = b"\xfe\xff\x00\xe0"
_ITEM_DELIMITER = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_UNDEFINED_LENGTH = b"\xff\xff\xff\xff"
_RESERVED = b"\x00\x00"
"""The two bytes between the VR and a 4-byte length."""
_PIXEL_DATA = 0x7FE00010
KEPT_APART = 64 * 1024
"""Values at least this long (the photo) are passed on as they are, never joined or copied."""

_LONG_LENGTH_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
"""VRs with a 4-byte length (after two reserved bytes) in explicit VR (PS3.5 7.1.2)."""
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR"})
_CHARACTER_SET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_NUMBER_STRING_VRS = frozenset({"IS", "DS"})
_BINARY_NUMBER_VRS = {"US": "H", "UL": "I", "SS": "h", "SL": "i", "FL": "f", "FD": "d"}
_BYTES_VRS = frozenset({"OB", "UN"})


def encode_part10(ds: FileDataset) -> list[bytes]:
    """The Part 10 file of ``ds``, in pieces whose concatenation is the file: the preamble,
    the file meta information and the data set. A large value such as encapsulated Pixel Data
    is a piece of its own, the very ``bytes`` object the data set holds."""
    syntax = UID(ds.file_meta.get("TransferSyntaxUID", ""))
    if not syntax.is_transfer_syntax or syntax.is_implicit_VR or not syntax.is_little_endian:
        raise ValueError(f"Transfer Syntax UID {str(syntax)!r} is not explicit VR little endian")
    if syntax.is_deflated:
        raise ValueError("deflated transfer syntaxes are not written here")
    # keys(): iterating a pydicom Dataset yields its elements, not their tags.
    if any(tag >> 16 in (0, 2) for tag in ds.keys()):  # noqa: SIM118
        raise ValueError("command (0000) or file meta (0002) elements in the data set")
    encoding = _text_encoding(ds.get("SpecificCharacterSet"))
    pieces = _Pieces()
    pieces.add(PREAMBLE if ds.preamble is None else ds.preamble, PREFIX)
    meta = _file_meta(ds)
    pieces.add(_GROUP_LENGTH, struct.pack("<I", len(meta)), meta)
    _encode_dataset(ds, encoding, pieces)
    return pieces.done()


def _file_meta(ds: FileDataset) -> bytes:
    """The file meta group after its length, checked as ``enforce_file_format`` would."""
    meta = ds.file_meta
    for keyword in ("FileMetaInformationVersion", "ImplementationClassUID"):
        if not meta.get(keyword):
            raise ValueError(f"the file meta information has no {keyword}")
    for keyword in ("SOPClassUID", "SOPInstanceUID"):
        if meta.get(f"MediaStorage{keyword}") != ds.get(keyword):
            raise ValueError(f"MediaStorage{keyword} differs from the data set's {keyword}")
    if any(tag >> 16 != 2 for tag in meta.keys()):  # noqa: SIM118
        raise ValueError("the file meta information holds elements outside group 0002")
    pieces = _Pieces()
    _encode_dataset(meta, "ascii", pieces)
    return b"".join(pieces.done())


class _Pieces:
    """Small pieces joined as they come; large values kept apart, uncopied."""

    def __init__(self) -> None:
        self._small: list[bytes] = []
        self._done: list[bytes] = []

    def add(self, *pieces: bytes) -> None:
        for piece in pieces:
            if len(piece) >= KEPT_APART:
                self._done.append(b"".join(self._small))
                self._small = []
                self._done.append(piece)
            else:
                self._small.append(piece)

    def done(self) -> list[bytes]:
        return [piece for piece in (*self._done, b"".join(self._small)) if piece]


def _encode_dataset(ds: Dataset, encoding: str, pieces: _Pieces) -> None:
    own = ds.get("SpecificCharacterSet")
    if own is not None and _text_encoding(own) != encoding:
        raise ValueError("an item's Specific Character Set differs from its data set's")
    for tag, element in sorted(ds.items(), key=lambda item: int(item[0])):
        if not isinstance(element, DataElement):
            raise ValueError(f"element {tag} was read from a file, not built: not written here")
        if tag & 0xFFFF == 0:
            continue  # group lengths: the file meta's is computed, the others are retired
        _encode_element(element, encoding, pieces)


def _encode_element(element: DataElement, encoding: str, pieces: _Pieces) -> None:
    vr = element.VR
    tag = int(element.tag)
    header = struct.pack("<HH2s", tag >> 16, tag & 0xFFFF, vr.encode("ascii"))
    if element.is_undefined_length:
        if vr == "SQ":
            pieces.add(header, _RESERVED, _UNDEFINED_LENGTH)
            _encode_items(element.value, encoding, pieces)
            pieces.add(_SEQUENCE_DELIMITER)
            return
        if tag == _PIXEL_DATA and vr == "OB" and bytes(element.value[:4]) == _ITEM:
            pieces.add(header, _RESERVED, _UNDEFINED_LENGTH, element.value, _SEQUENCE_DELIMITER)
            return
        raise ValueError(f"element {element.tag} has an undefined length it cannot have")
    if vr == "SQ":
        items = _Pieces()
        _encode_items(element.value, encoding, items)
        value = b"".join(items.done())
    else:
        value = _encode_value(element, vr, encoding)
    if vr in _LONG_LENGTH_VRS:
        pieces.add(header, _RESERVED, struct.pack("<I", len(value)), value)
    elif len(value) <= 0xFFFF:
        pieces.add(header, struct.pack("<H", len(value)), value)
    else:
        raise ValueError(f"element {element.tag} ({vr}) is longer than its VR allows")


def _encode_items(items: Iterable[Dataset], encoding: str, pieces: _Pieces) -> None:
    for item in items:
        body = _Pieces()
        _encode_dataset(item, encoding, body)
        encoded = b"".join(body.done())
        if getattr(item, "is_undefined_length_sequence_item", False):
            pieces.add(_ITEM, _UNDEFINED_LENGTH, encoded, _ITEM_DELIMITER)
        else:
            pieces.add(_ITEM, struct.pack("<I", len(encoded)), encoded)


def _encode_value(element: DataElement, vr: str, encoding: str) -> bytes:
    """The element's value field, padded to an even length as its VR says."""
    value = element.value
    if value is None or value == "" or (isinstance(value, MultiValue | list) and not value):
        return b""
    if vr in _ASCII_VRS:
        return _padded(_joined(value, vr).encode("ascii"), b"\x00" if vr == "UI" else b" ")
    if vr in _CHARACTER_SET_VRS:
        return _padded(_joined(value, vr).encode(encoding), b" ")
    if vr in _NUMBER_STRING_VRS:
        values = value if isinstance(value, MultiValue | list) else [value]
        text = "\\".join(getattr(n, "original_string", None) or str(n) for n in values)
        return _padded(text.encode("ascii"), b" ")
    if vr in _BINARY_NUMBER_VRS:
        numbers = list(value) if isinstance(value, MultiValue | list) else [value]
        return struct.pack(f"<{len(numbers)}{_BINARY_NUMBER_VRS[vr]}", *numbers)
    if vr in _BYTES_VRS and isinstance(value, bytes):
        return _padded(value, b"\x00")
    if vr == "AT":  # (group, element) pairs, as the Frame Increment Pointer of a video holds
        tags = list(value) if isinstance(value, MultiValue | list) else [value]
        return b"".join(struct.pack("<HH", int(tag) >> 16, int(tag) & 0xFFFF) for tag in tags)
    raise ValueError(f"element {element.tag}: VR {vr} with a {type(value).__name__} value")


def _joined(value: Any, vr: str) -> str:
    """A string VR's values as one string, ``\\``-separated; each must be text."""
    values = value if isinstance(value, MultiValue | list) else [value]
    if vr == "PN":
        return "\\".join(str(name) for name in values)
    if not all(isinstance(text, str) for text in values):
        raise ValueError(f"a {vr} value must be text, got {type(values[0]).__name__}")
    return "\\".join(values)


def _padded(value: bytes, padding: bytes) -> bytes:
    return value + padding if len(value) % 2 else value


def _text_encoding(character_set: object) -> str:
    if character_set in (None, ""):
        return "ascii"
    if character_set == UTF8_CHARACTER_SET:
        return "utf-8"
    raise ValueError(f"Specific Character Set {character_set!r}: only ISO_IR 192 is written")


# --- Reading what we stored -------------------------------------------------------------------

JPEG_END_OF_IMAGE = b"\xff\xd9"

Part10Source = Path | bytes
"""A Part-10 object: a file of the spool, or bytes retrieved from the PACS."""


def readable(source: Part10Source) -> Path | BytesIO:
    """Something ``dcmread`` can read."""
    return source if isinstance(source, Path) else BytesIO(source)


def first_jpeg_frame(source: Part10Source) -> bytes:
    """The first (for a photo, the only) frame: the encapsulated JPEG, without item padding."""
    dataset = dcmread(readable(source))
    return without_item_padding(next(generate_frames(dataset.PixelData, number_of_frames=1)))


def without_item_padding(frame: bytes) -> bytes:
    """An encapsulated JPEG frame without the byte that pads an odd-length JPEG to the even
    length of an encapsulated item."""
    trimmed = frame.rstrip(b"\x00")
    return trimmed if trimmed.endswith(JPEG_END_OF_IMAGE) else frame
