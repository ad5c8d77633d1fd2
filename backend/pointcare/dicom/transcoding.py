"""A stored object rewritten in Explicit VR Little Endian, the default of DICOMweb (PS3.18 8.7.3).

The header (every element before Pixel Data) is written by pydicom; the Pixel Data element
follows, its frames decoded one at a time while the answer is sent, so a transcode holds one
decoded frame, never the whole object. Its length is known before any frame is decoded, so the
size of the result is too.

A decoded JPEG is RGB (Pillow converts YBR), so the object says RGB, interleaved. Lossy Image
Compression stays "01": the pixels were lossy once and remain so (PS3.3 C.7.6.1.1.5).
Elements after Pixel Data (trailing padding, digital signatures, which no longer match) are
not carried over.
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset, FileDataset
from pydicom.uid import ExplicitVRLittleEndian

from pointcare.dicom.part10 import Part10Source, readable
from pointcare.dicom.pixels import DECODABLE_SYNTAXES, has_pixels, layout, native_frame

_PIXEL_DATA_HEADER = b"\xe0\x7f\x10\x00OB\x00\x00"
"""(7FE0,0010) Pixel Data, VR OB (8-bit samples), reserved bytes: its 4-byte length follows."""


def can_transcode(transfer_syntax: str) -> bool:
    """Whether objects stored in ``transfer_syntax`` can be written in Explicit VR Little Endian."""
    return transfer_syntax in DECODABLE_SYNTAXES


@dataclass(frozen=True, slots=True)
class Transcoded:
    """An object in Explicit VR Little Endian, ready to be sent chunk by chunk."""

    head: bytes
    """The Part 10 file up to the Pixel Data value (the whole file for an object without)."""
    dataset: Dataset
    frames: int
    frame_length: int

    @property
    def pixel_length(self) -> int:
        return self.frames * self.frame_length

    @property
    def size(self) -> int:
        return len(self.head) + self.pixel_length + self.pixel_length % 2

    def chunks(self) -> Iterator[bytes]:
        """The file: its head, then each frame as it is decoded, then the padding byte that
        keeps the value's length even."""
        yield self.head
        for index in range(self.frames):
            yield native_frame(self.dataset, index)
        if self.pixel_length % 2:
            yield b"\x00"


def to_explicit_little_endian(source: Part10Source) -> Transcoded:
    """``source`` prepared for sending in Explicit VR Little Endian (nothing is decoded yet);
    ``ValueError`` when its pixels cannot be decoded here."""
    dataset = dcmread(readable(source))
    syntax = str(dataset.file_meta.TransferSyntaxUID)
    if not can_transcode(syntax):
        raise ValueError(f"objects in transfer syntax {syntax} cannot be decoded here")
    header = _header_dataset(dataset)
    if not has_pixels(dataset):
        return Transcoded(_part10(header), dataset, frames=0, frame_length=0)
    shape = layout(dataset)
    header.PhotometricInterpretation = shape.photometric
    header.BitsStored, header.HighBit, header.PixelRepresentation = 8, 7, 0
    if shape.samples == 3:
        header.PlanarConfiguration = 0
    elif "PlanarConfiguration" in header:
        del header.PlanarConfiguration
    pixel_length = shape.frames * shape.frame_length
    head = _part10(header) + _PIXEL_DATA_HEADER + struct.pack("<I", pixel_length + pixel_length % 2)
    return Transcoded(head, dataset, shape.frames, shape.frame_length)


def _header_dataset(dataset: Dataset) -> FileDataset:
    """Every element of ``dataset`` before Pixel Data, with file meta for the new syntax."""
    meta = copy.deepcopy(dataset.file_meta)  # the source keeps its own transfer syntax
    header = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    for element in dataset:
        if element.tag >= 0x7FE00010:
            break
        header.add(copy.copy(element))  # a copy: the new values must not reach the source
    header.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return header


def _part10(header: FileDataset) -> bytes:
    buffer = BytesIO()
    dcmwrite(buffer, header, enforce_file_format=True)
    return buffer.getvalue()
