"""WADO-RS over the built-in archive: find stored objects by UID, then serve their files.

Part-10 files go out byte for byte as stored. Metadata is read from each file's header (pixels
not read); the single frame of a photo is its encapsulated JPEG, served as-is. When a PACS is
the archive and has confirmed an object, its spool copy is gone: the ``InstanceReader`` then
retrieves the object from the PACS (WADO-RS) instead. Thumbnails are always kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from litestar.exceptions import ClientException
from pydicom import dcmread
from pydicom.uid import JPEGBaseline8Bit, JPEGExtended12Bit
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.archive.protocol import InstanceRef
from pointcare.archive.reader import InstanceReader
from pointcare.corrections.visibility import images_in_force, not_rejected
from pointcare.db.models import Instance, Series, Study
from pointcare.dicom.json_model import JsonObject, dataset_to_dicom_json
from pointcare.dicom.part10 import first_jpeg_frame, readable
from pointcare.dicom.video import VIDEO_TRANSFER_SYNTAXES, stored_clip
from pointcare.errors import NotFound
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.clips import MP4
from pointcare.web.dicomweb.media import DICOM, JPEG, NotAcceptable
from pointcare.web.dicomweb.multipart import Part
from pointcare.web.dicomweb.rendering import RenderOptions, render_jpeg

FRAME_MEDIA_TYPES: dict[str, str] = {
    JPEGBaseline8Bit: JPEG,
    JPEGExtended12Bit: JPEG,
    **dict.fromkeys(VIDEO_TRANSFER_SYNTAXES, MP4),
}
"""Transfer syntaxes whose frames we can serve as they are stored, and their media type: a video's
frames are its whole MP4 stream (PS3.18 8.7.3.5.2: one bulk data part for every frame)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """Where one instance of the archive is, and how it was stored."""

    study_uid: str
    series_uid: str
    sop_uid: str
    storage_path: str
    thumbnail_path: str | None
    """None for an object that is no image."""
    transfer_syntax_uid: str
    patient_id: int
    sensitive: bool

    @property
    def ref(self) -> InstanceRef:
        return InstanceRef(self.study_uid, self.series_uid, self.sop_uid)


def locate(
    session: Session,
    study_uid: str,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    *,
    first_only: bool = False,
    images_only: bool = False,
) -> list[StoredObject]:
    """The stored objects under a study, series or instance (with ``images_only``, its images),
    in series and instance order; ``NotFound`` when there are none."""
    query = (
        select(
            Study.study_instance_uid,
            Series.series_instance_uid,
            Instance.sop_instance_uid,
            Instance.storage_path,
            Instance.thumbnail_path,
            Instance.transfer_syntax_uid,
            Instance.patient_id,
            Instance.sensitive,
        )
        .join(Series, Series.id == Instance.series_id)
        .join(Study, Study.id == Series.study_id)
        .where(Study.study_instance_uid == study_uid, not_rejected())
        .order_by(Series.series_number, Series.id, Instance.instance_number, Instance.id)
    )
    if series_uid is not None:
        query = query.where(Series.series_instance_uid == series_uid)
    if sop_uid is not None:
        query = query.where(Instance.sop_instance_uid == sop_uid)
    if images_only:
        query = query.where(images_in_force())
    if first_only:
        query = query.limit(1)
    found = [StoredObject(*row) for row in session.execute(query)]
    if not found:
        raise NotFound(_not_found(study_uid, series_uid, sop_uid))
    return found


def _not_found(study_uid: str, series_uid: str | None, sop_uid: str | None) -> str:
    where = f"study {study_uid}"
    if series_uid is not None:
        where = f"series {series_uid} of {where}"
    if sop_uid is not None:
        where = f"instance {sop_uid} in {where}"
    return f"There is no {where} in this archive."


def dicom_parts(reader: InstanceReader, objects: list[StoredObject]) -> list[Part]:
    """The Part-10 objects of ``objects``, each labelled with its stored transfer syntax."""
    parts = []
    for stored in objects:
        content_type = f"{DICOM}; transfer-syntax={stored.transfer_syntax_uid}"
        source = reader.part10(stored.ref, stored.storage_path)
        if isinstance(source, Path):
            parts.append(Part.from_file(source, content_type))
        else:
            parts.append(Part.from_bytes(source, content_type))
    return parts


def metadata(
    reader: InstanceReader, objects: list[StoredObject], *, service: str
) -> list[JsonObject]:
    """The full header of each object in DICOM JSON, Pixel Data as a link to its frame."""
    result = []
    for stored in objects:
        source = reader.part10(stored.ref, stored.storage_path)
        dataset = dcmread(readable(source), stop_before_pixels=True)
        url = links.instance_url(service, stored.study_uid, stored.series_uid, stored.sop_uid)
        dataset.AvailableTransferSyntaxUID = stored.transfer_syntax_uid
        result.append(dataset_to_dicom_json(dataset, bulk_data={"PixelData": f"{url}/frames/1"}))
    return result


def frame_media_type(stored: StoredObject) -> str:
    """The media type the frames of ``stored`` are served in; 406 when we could only transcode."""
    media_type = FRAME_MEDIA_TYPES.get(stored.transfer_syntax_uid)
    if media_type is None:
        raise NotAcceptable(
            detail=f"Frames stored in transfer syntax {stored.transfer_syntax_uid} cannot be "
            "served as they are, and this archive does not transcode."
        )
    return media_type


def parse_frame_numbers(text: str) -> list[int]:
    """``"1"`` or ``"1,2"`` from a frames path; 400 when malformed, 404 past the one frame."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() and int(part) >= 1 for part in parts):
        raise ClientException(
            detail="frames must be a comma-separated list of frame numbers from 1, "
            f"got {text[:80]!r}."
        )
    numbers = [int(part) for part in parts]
    if any(number != 1 for number in numbers):
        raise NotFound("This instance has a single frame: ask for frame 1.")
    return numbers


def first_frame(reader: InstanceReader, stored: StoredObject) -> bytes:
    """The first (for a photo, the only) frame: the encapsulated JPEG, without item padding;
    for a video, its MP4."""
    source = reader.part10(stored.ref, stored.storage_path)
    if stored.transfer_syntax_uid in VIDEO_TRANSFER_SYNTAXES:
        return stored_clip(source)
    return first_jpeg_frame(source)


def rendered(reader: InstanceReader, stored: StoredObject, options: RenderOptions) -> bytes:
    """The photo as a JPEG: the stored frame itself, or fitted to ``options``."""
    return render_jpeg(first_frame(reader, stored), options)
