"""Small generated photos for the imaging tests: exact properties, built in milliseconds."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image, ImageChops, ImageCms, ImageStat

import pointcare.imaging.photo  # noqa: F401  (registers the HEIF plugin used by heic_bytes)
from pointcare.imaging.exif import ORIENTATION_TAG

RED = (220, 20, 20)
BLUE = (20, 20, 220)
MARK = (250, 250, 20)
"""Colour of the block in the scene's top-left corner, to tell which way up a picture is."""


def scene(size: tuple[int, int] = (160, 120), mode: str = "RGB") -> Image.Image:
    """A picture that is not symmetric: blue background, a yellow block at the top left."""
    image = Image.new("RGB", size, BLUE)
    width, height = size
    image.paste(MARK, (0, 0, width // 4, height // 4))
    image.paste(RED, (width // 2, height // 2, width, height))
    return image.convert(mode) if mode != "RGB" else image


def jpeg_bytes(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    options.setdefault("quality", 90)
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def png_bytes(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def heic_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="HEIF", quality=60)
    return buffer.getvalue()


def exif_with(orientation: int | None = None, *, gps: bool = False) -> bytes:
    """An EXIF block (with its ``Exif\\0\\0`` prefix) holding the given facts."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    return exif.tobytes()  # Pillow writes the Exif\0\0 prefix and a big-endian TIFF


def with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more marker segment right after SOI."""
    segment = bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def srgb_icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data: bytes = profile.tobytes()
    return data


def decode(data: bytes, mode: str = "RGB") -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert(mode)


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    """Mean absolute difference per channel, averaged (0-255)."""
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    means = ImageStat.Stat(difference).mean
    return sum(means) / len(means)


def patched_png_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR claiming another size (CRC fixed, pixel data untouched)."""
    ihdr = bytearray(png[8 : 8 + 25])
    struct.pack_into(">II", ihdr, 8, width, height)
    struct.pack_into(">I", ihdr, 21, zlib.crc32(bytes(ihdr[4:21])))
    return png[:8] + bytes(ihdr) + png[33:]


def patched_jpeg_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its SOF0 header claiming another size."""
    position = jpeg.index(b"\xff\xc0")
    patched = bytearray(jpeg)
    struct.pack_into(">HH", patched, position + 5, height, width)
    return bytes(patched)
