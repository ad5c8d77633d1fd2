"""The frames of a stored object: encapsulated frames as stored, or decoded to pixels.

What can be decoded here is what photographs arrive in: JPEG Baseline (and 8-bit JPEG Extended)
through Pillow, and native 8-bit RGB or MONOCHROME2 pixels in either little-endian syntax. A
frame is decoded on its own, so a multi-frame object never needs all its pixels in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import generate_frames
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
)

from pointcare.dicom.part10 import without_item_padding

ENCAPSULATED_MEDIA_TYPES: dict[str, str] = {
    JPEGBaseline8Bit: "image/jpeg",
    JPEGExtended12Bit: "image/jpeg",
}
"""Transfer syntaxes whose frames are sent as they are stored, and their media type."""

NATIVE_SYNTAXES = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})
DECODABLE_SYNTAXES = NATIVE_SYNTAXES | frozenset(ENCAPSULATED_MEDIA_TYPES)
"""Transfer syntaxes whose frames can be decoded here (to transcode or render them)."""

_NATIVE_MODES = {("RGB", 3): "RGB", ("MONOCHROME2", 1): "L"}


@dataclass(frozen=True, slots=True)
class PixelLayout:
    """The shape of an object's frames once decoded: 8 bits a sample, samples interleaved."""

    rows: int
    columns: int
    samples: int
    frames: int

    @property
    def frame_length(self) -> int:
        return self.rows * self.columns * self.samples

    @property
    def photometric(self) -> str:
        """Photometric Interpretation of the decoded pixels (Pillow gives RGB for YBR JPEGs)."""
        return "RGB" if self.samples == 3 else "MONOCHROME2"


def has_pixels(dataset: Dataset) -> bool:
    return "PixelData" in dataset


def layout(dataset: Dataset) -> PixelLayout:
    """The decoded shape of ``dataset``'s frames; ``ValueError`` when they are not 8-bit images
    of one or three samples a pixel."""
    samples = int(dataset.get("SamplesPerPixel", 0))
    if samples not in (1, 3) or int(dataset.get("BitsAllocated", 0)) != 8:
        raise ValueError("only 8-bit images of 1 or 3 samples per pixel are decoded here")
    rows, columns = int(dataset.get("Rows", 0)), int(dataset.get("Columns", 0))
    if rows < 1 or columns < 1:
        raise ValueError("Rows and Columns must be positive")
    return PixelLayout(rows, columns, samples, int(dataset.get("NumberOfFrames", 1) or 1))


def _syntax(dataset: Dataset) -> str:
    return str(dataset.file_meta.TransferSyntaxUID)


def stored_frame(dataset: Dataset, index: int) -> bytes:
    """Frame ``index`` (from 0) as stored: an encapsulated frame without its item padding, or
    the native bytes of the frame."""
    frames = layout(dataset).frames
    if not 0 <= index < frames:
        raise ValueError(f"frame {index + 1} asked of an object of {frames} frame(s)")
    if _syntax(dataset) in ENCAPSULATED_MEDIA_TYPES:
        for position, frame in enumerate(
            generate_frames(dataset.PixelData, number_of_frames=frames)
        ):
            if position == index:
                return without_item_padding(frame)
    length = layout(dataset).frame_length
    return bytes(dataset.PixelData[index * length : (index + 1) * length])


def frame_image(dataset: Dataset, index: int) -> Image.Image:
    """Frame ``index`` decoded, as a Pillow image in RGB or L mode."""
    syntax = _syntax(dataset)
    if syntax not in DECODABLE_SYNTAXES:
        raise ValueError(f"frames in transfer syntax {syntax} cannot be decoded here")
    shape = layout(dataset)
    data = stored_frame(dataset, index)
    if syntax in ENCAPSULATED_MEDIA_TYPES:
        image = Image.open(BytesIO(data))
        if image.size != (shape.columns, shape.rows):
            raise ValueError(
                f"the JPEG is {image.width}x{image.height}, the object says "
                f"{shape.columns}x{shape.rows}"
            )
        return image.convert("RGB" if shape.samples == 3 else "L")
    return _native_image(dataset, shape, data)


def _native_image(dataset: Dataset, shape: PixelLayout, data: bytes) -> Image.Image:
    photometric = str(dataset.get("PhotometricInterpretation", ""))
    mode = _NATIVE_MODES.get((photometric, shape.samples))
    if mode is None:
        raise ValueError(f"native {photometric} pixels are not decoded here")
    size = (shape.columns, shape.rows)
    if mode == "RGB" and int(dataset.get("PlanarConfiguration", 0)) == 1:
        plane = shape.rows * shape.columns
        channels = [Image.frombytes("L", size, data[i * plane : (i + 1) * plane]) for i in range(3)]
        return Image.merge("RGB", channels)
    return Image.frombytes(mode, size, data)


def native_frame(dataset: Dataset, index: int) -> bytes:
    """Frame ``index`` as uncompressed pixels, samples interleaved (what Explicit VR Little
    Endian holds for the photometric interpretation ``layout(dataset).photometric``)."""
    with frame_image(dataset, index) as image:
        return image.tobytes()
