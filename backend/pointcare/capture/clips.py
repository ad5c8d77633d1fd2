"""Video clips as the capture services take them: converted within the server's limits, a
refusal told as the application error a caller can act on, and filed as a Video Photographic
Image (:func:`clip_picture`) like any image of the patient.

ffmpeg is looked for at the first clip, not at start-up: a server without it still takes photos,
and says plainly that it cannot take clips.
"""

from __future__ import annotations

import logging
import threading
from functools import partial

from pointcare.capture.photos import Picture
from pointcare.dicom.video import (
    VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE,
    build_video_photographic_image,
    transfer_syntax_for,
)
from pointcare.domain.objects import ObjectKind
from pointcare.errors import (
    InvalidInput,
    PayloadTooLarge,
    PointcareError,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from pointcare.settings import Settings
from pointcare.video.clip import (
    ClipBusy,
    ClipLimits,
    ClipNormaliser,
    ClipRejected,
    ClipTooLarge,
    NormalisedClip,
    UnsupportedClip,
)
from pointcare.video.tools import ToolLimits, ToolMissing, VideoTools

log = logging.getLogger(__name__)


def clip_limits(settings: Settings) -> ClipLimits:
    return ClipLimits(
        max_bytes=settings.video_max_bytes,
        max_seconds=settings.video_max_seconds,
        concurrent=settings.video_concurrent_conversions,
        queue_seconds=settings.video_queue_seconds,
        tool=ToolLimits(
            timeout_seconds=settings.video_convert_timeout_seconds,
            memory_bytes=settings.video_convert_memory_bytes,
            threads=settings.video_convert_threads,
        ),
    )


class ClipIntake:
    """The server's one clip converter (its slots bound the conversions of every request)."""

    def __init__(self, limits: ClipLimits) -> None:
        self.limits = limits
        self._normaliser: ClipNormaliser | None = None
        self._lock = threading.Lock()

    def normalise(self, data: bytes, field: str = "file") -> NormalisedClip:
        """The clip to store (blocking: call it from a worker thread); refusals as 413, 415 or
        422 naming ``field``, a full queue or a missing ffmpeg as 503."""
        normaliser = self.normaliser()
        try:
            return normaliser.normalise(data)
        except ClipRejected as exc:
            raise clip_refused(exc, field) from None
        except ClipBusy:
            raise ServiceUnavailable(
                "Other clips are being converted; this one will be sent again shortly."
            ) from None

    def normaliser(self) -> ClipNormaliser:
        """The converter, made at the first clip; 503 when ffmpeg is not installed."""
        with self._lock:
            if self._normaliser is None:
                try:
                    self._normaliser = ClipNormaliser(VideoTools.find(), self.limits)
                except ToolMissing as exc:
                    log.error("video clips cannot be converted: %s", exc)
                    raise ServiceUnavailable(
                        "This server cannot store video clips at the moment (its video "
                        "converter is not installed). Photos can still be sent."
                    ) from None
            return self._normaliser


def clip_picture(clip: NormalisedClip) -> Picture:
    """A clip as the image pipeline files it; its poster frame is its thumbnail."""
    return Picture(
        kind=ObjectKind.VIDEO,
        sop_class_uid=VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE,
        transfer_syntax_uid=transfer_syntax_for(clip.level),
        thumbnail=clip.poster,
        rows=clip.rows,
        columns=clip.columns,
        source_format=clip.source_format.value,
        reencoded=clip.transcoded,
        build=partial(build_video_photographic_image, clip=clip),
    )


def clip_refused(exc: ClipRejected, field: str) -> PointcareError:
    """415 for a file that is no clip we take, 413 over a limit, 422 for a broken one or sound
    alone."""
    message = str(exc)
    if isinstance(exc, UnsupportedClip):
        return UnsupportedMediaType(message, errors={field: message})
    if isinstance(exc, ClipTooLarge):
        return PayloadTooLarge(message, errors={field: message})
    return InvalidInput(message, errors={field: message})
