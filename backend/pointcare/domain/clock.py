"""Clinical times keep the offset they were taken at: stored as UTC plus minutes east of UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum


class TakenAtSource(StrEnum):
    """Where the moment a photo was taken came from. Stored as the value."""

    DEVICE = "device"
    """The capturing device's clock at the shutter (the bedside camera, an app's own time)."""
    PHOTO = "photo"
    """The file's own record: a photo's EXIF DateTimeOriginal (with its offset when the camera
    gave one), a clip's recording date in its container."""
    FILE = "file"
    """The file's date: the photo did not say when it was taken; the user was asked to check."""
    ENTERED = "entered"
    """Typed or corrected by the user."""
    SERVER = "server"
    """When it reached the server: nothing else said (documents, notes)."""


@dataclass(frozen=True, slots=True)
class TakenAt:
    moment: datetime
    """Timezone-aware."""
    source: TakenAtSource


def offset_minutes(moment: datetime) -> int:
    """Minutes east of UTC of an aware datetime (DICOM Timezone Offset From UTC)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("a clinical time needs a UTC offset")
    return int(offset.total_seconds() // 60)


def at_offset(moment: datetime, minutes: int) -> datetime:
    """``moment`` as wall-clock time at ``minutes`` east of UTC."""
    return moment.astimezone(timezone(timedelta(minutes=minutes)))
