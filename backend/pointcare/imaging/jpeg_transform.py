"""Lossless JPEG rotations and flips, by libjpeg-turbo's TurboJPEG transform.

A phone stores most photos as the sensor saw them and says "turn me" in EXIF. Rather than decode
the picture and compress it a second time (a second generation of JPEG loss, and the slowest step
of an upload), the transform rearranges the picture's 8x8 blocks of DCT coefficients: the stored
pixels are exactly the ones the phone compressed, turned upright.

It is exact only when the edge that moves is made of whole MCUs (8 or 16 pixels), which is true
of most phone sensors (4032 x 3024) but not all (4000 x 3000 with Orientation 6). When it is not,
or the data is damaged, or the library is not installed (Debian: ``libturbojpeg0``),
:func:`upright` answers None and the caller re-encodes instead.
"""

from __future__ import annotations

import ctypes
import logging
from enum import IntEnum

from pointcare.imaging import jpeg_markers, turbojpeg

log = logging.getLogger(__name__)


class Operation(IntEnum):
    """TurboJPEG's TJXOP values."""

    FLIP_LEFT_RIGHT = 1
    FLIP_TOP_BOTTOM = 2
    TRANSPOSE = 3
    TRANSVERSE = 4
    ROTATE_90_CLOCKWISE = 5
    ROTATE_180 = 6
    ROTATE_270_CLOCKWISE = 7


_UPRIGHT = {
    2: Operation.FLIP_LEFT_RIGHT,
    3: Operation.ROTATE_180,
    4: Operation.FLIP_TOP_BOTTOM,
    5: Operation.TRANSPOSE,
    6: Operation.ROTATE_90_CLOCKWISE,
    7: Operation.TRANSVERSE,
    8: Operation.ROTATE_270_CLOCKWISE,
}
"""EXIF orientation -> the operation that shows the picture as a viewer honouring EXIF would."""

_MOVING_SIDES = {
    Operation.FLIP_LEFT_RIGHT: (True, False),
    Operation.FLIP_TOP_BOTTOM: (False, True),
    Operation.TRANSPOSE: (False, False),
    Operation.TRANSVERSE: (True, True),
    Operation.ROTATE_90_CLOCKWISE: (False, True),
    Operation.ROTATE_180: (True, True),
    Operation.ROTATE_270_CLOCKWISE: (True, False),
}
"""Operation -> whether its width, and its height, must be whole MCUs for the turn to be exact
(libjpeg's ``jtransform_perfect_transform``): the sides whose far edge moves to the near one."""

_PERFECT = 1  # TJXOPT_PERFECT: fail rather than drop or leave partial edge blocks
_COPY_NONE = 64  # TJXOPT_COPYNONE: no APPn or COM segment (EXIF, GPS, XMP, ICC) is copied


def is_exact(frame: jpeg_markers.FrameHeader, orientation: int) -> bool:
    """Whether :func:`upright` can turn this frame (EXIF ``orientation`` 2-8) exactly: the
    forecast a caller plans its work by; the library still has the last word."""
    width_moves, height_moves = _MOVING_SIDES[_UPRIGHT[orientation]]
    mcu_width, mcu_height = frame.mcu_size
    return not (width_moves and frame.width % mcu_width) and not (
        height_moves and frame.height % mcu_height
    )


def upright(jpeg: bytes, orientation: int) -> bytes | None:
    """``jpeg`` (EXIF ``orientation`` 2-8) turned upright block by block, without any APPn or
    COM segment; None when that cannot be done exactly, and the photo must be re-encoded."""
    lib = turbojpeg.library()
    if lib is None:
        return None
    transform = turbojpeg.Transform(op=_UPRIGHT[orientation], options=_PERFECT | _COPY_NONE)
    with turbojpeg.session(lib, lib.tjInitTransform) as handle, turbojpeg.output(lib) as out:
        status = lib.tjTransform(
            handle,
            jpeg,
            len(jpeg),
            1,
            ctypes.byref(out.buffer),
            ctypes.byref(out.size),
            ctypes.byref(transform),
            turbojpeg.STOP_ON_WARNING,
        )
        try:
            turbojpeg.check(lib, handle, status)
        except turbojpeg.TurboJpegError as exc:
            # Not whole MCUs on the moving edge, or damaged data: the decoder has the last word.
            log.debug("no lossless turn for orientation %d: %s", orientation, exc)
            return None
        return out.bytes()
