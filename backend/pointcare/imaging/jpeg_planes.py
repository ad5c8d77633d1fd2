"""Re-encode a YCbCr JPEG without leaving YCbCr: decode to planes, turn them, compress once.

When a JPEG cannot be kept as it is (a turn that would move partial edge blocks, progressive
coding, an EXIF block that cannot be trusted), it must be decoded and compressed again. Going
through RGB, as Pillow does, costs a chroma upsampling and a colour conversion on the way in and
a colour conversion and a chroma downsampling on the way out, for nothing: the Y, Cb and Cr
planes can be turned as they are and handed back to the encoder, which then only quantises.

Only sampling that a turn preserves is handled: 4:2:0 and greyscale always, 4:2:2 when the
picture is not turned a quarter (it would become 4:4:0, which YBR_FULL_422 does not describe).
Anything else, damaged data included, answers None and the caller goes through RGB, where the
decoder has the last word.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass

from PIL import Image

from pointcare.imaging import exif, parallel, turbojpeg

log = logging.getLogger(__name__)

_SAMP_422 = 1
_SAMP_420 = 2
_SAMP_GREY = 3


@dataclass(frozen=True, slots=True)
class Recompressed:
    jpeg: bytes
    """Baseline JPEG, upright, with the input's chroma sampling and only a JFIF header."""
    planes: tuple[Image.Image, ...]
    """The upright Y, Cb and Cr planes ("L" images; Y alone for grey): the thumbnail's source."""


def recompress_upright(jpeg: bytes, orientation: int, quality: int) -> Recompressed | None:
    """``jpeg`` turned as EXIF ``orientation`` (1-8) says and compressed once at ``quality``;
    None when its sampling or data is not for this path."""
    lib = turbojpeg.library()
    if lib is None:
        return None
    try:
        with turbojpeg.session(lib, lib.tjInitDecompress) as handle:
            width, height, sampling = _header(lib, handle, jpeg)
            if not _keeps_sampling(width, height, sampling, orientation):
                return None
            planes = _decode_planes(lib, handle, jpeg, width, height, sampling)
        if orientation in exif.UPRIGHT:
            method = exif.UPRIGHT[orientation]
            planes = parallel.map_parts(lambda plane: plane.turned(method), planes)
        with turbojpeg.session(lib, lib.tjInitCompress) as handle:
            compressed = _compress(lib, handle, planes, sampling, quality)
        return Recompressed(compressed, tuple(plane.image for plane in planes))
    except turbojpeg.TurboJpegError as exc:
        log.debug("JPEG not re-encoded by planes: %s", exc)
        return None


@dataclass(frozen=True, slots=True)
class _Plane:
    image: Image.Image
    samples: bytes | bytearray
    """The image's samples, row after row, as the encoder takes them."""

    def turned(self, method: Image.Transpose) -> _Plane:
        image = self.image.transpose(method)
        return _Plane(image, image.tobytes())

    @property
    def address(self) -> int | None:
        """Where TurboJPEG reads or writes the samples (``samples`` keeps the memory alive)."""
        if isinstance(self.samples, bytearray):
            return ctypes.addressof((ctypes.c_char * len(self.samples)).from_buffer(self.samples))
        return ctypes.cast(ctypes.c_char_p(self.samples), ctypes.c_void_p).value


def _keeps_sampling(width: int, height: int, sampling: int, orientation: int) -> bool:
    """Whether the upright planes still line up as ``sampling`` says, YBR_FULL_422 or grey."""
    if sampling == _SAMP_GREY:
        return True
    if sampling not in (_SAMP_420, _SAMP_422):
        return False
    if orientation == 1:
        return True
    if sampling == _SAMP_422 and orientation in exif.QUARTER_TURNS:
        return False
    # With an odd side, the last chroma sample covers one pixel, not two: a flip would shift
    # every chroma sample along that side by a pixel.
    return width % 2 == 0 and (sampling == _SAMP_422 or height % 2 == 0)


def _header(lib: ctypes.CDLL, handle: int, jpeg: bytes) -> tuple[int, int, int]:
    width, height, sampling, colourspace = (ctypes.c_int() for _ in range(4))
    status = lib.tjDecompressHeader3(
        handle, jpeg, len(jpeg), *map(ctypes.byref, (width, height, sampling, colourspace))
    )
    turbojpeg.check(lib, handle, status)
    return width.value, height.value, sampling.value


def _decode_planes(
    lib: ctypes.CDLL, handle: int, jpeg: bytes, width: int, height: int, sampling: int
) -> list[_Plane]:
    count = 1 if sampling == _SAMP_GREY else 3
    sizes = [
        (lib.tjPlaneWidth(c, width, sampling), lib.tjPlaneHeight(c, height, sampling))
        for c in range(count)
    ]
    # Each image shares its buffer's memory, so the decoder writes straight into the images.
    buffers = [bytearray(w * h) for w, h in sizes]
    planes = [
        _Plane(Image.frombuffer("L", size, buffer, "raw", "L", 0, 1), buffer)
        for size, buffer in zip(sizes, buffers, strict=True)
    ]
    status = lib.tjDecompressToYUVPlanes(
        handle,
        jpeg,
        len(jpeg),
        (ctypes.c_void_p * 3)(*(plane.address for plane in planes)),
        width,
        None,
        height,
        turbojpeg.STOP_ON_WARNING,
    )
    turbojpeg.check(lib, handle, status)
    return planes


def _compress(
    lib: ctypes.CDLL, handle: int, planes: list[_Plane], sampling: int, quality: int
) -> bytes:
    width, height = planes[0].image.size
    with turbojpeg.output(lib) as out:
        status = lib.tjCompressFromYUVPlanes(
            handle,
            (ctypes.c_void_p * 3)(*(plane.address for plane in planes)),
            width,
            None,
            height,
            sampling,
            ctypes.byref(out.buffer),
            ctypes.byref(out.size),
            quality,
            turbojpeg.ACCURATE_DCT,
        )
        turbojpeg.check(lib, handle, status)
        return out.bytes()
