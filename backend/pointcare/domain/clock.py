"""Clinical times keep the offset they were taken at: stored as UTC plus minutes east of UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def offset_minutes(moment: datetime) -> int:
    """Minutes east of UTC of an aware datetime (DICOM Timezone Offset From UTC)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("a clinical time needs a UTC offset")
    return int(offset.total_seconds() // 60)


def at_offset(moment: datetime, minutes: int) -> datetime:
    """``moment`` as wall-clock time at ``minutes`` east of UTC."""
    return moment.astimezone(timezone(timedelta(minutes=minutes)))
