"""WADO-RS over the built-in archive: find stored objects by UID, then send them.

Objects go out byte for byte as stored, or rewritten in Explicit VR Little Endian when that is
asked for (or nothing is): the default of PS3.18. Metadata is read from each file's header
(pixels not read), with Bulk Data URIs for what it leaves out. Frames go out as stored (the
encapsulated JPEG) or decoded to uncompressed pixels. When a PACS is the archive and has
confirmed an object, its spool copy is gone: the ``InstanceReader`` then retrieves the object
from the PACS (WADO-RS) instead. Thumbnails are always kept here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from litestar.exceptions import ClientException
from pydicom import dcmread
from pydicom.dataset import Dataset
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.archive.protocol import InstanceRef
from pointcare.archive.reader import InstanceReader
from pointcare.corrections.visibility import images_in_force, not_rejected
from pointcare.db.models import Instance, Series, Study
from pointcare.dicom.json_model import JsonObject, dataset_to_dicom_json
from pointcare.dicom.part10 import readable
from pointcare.dicom.pdf import encapsulated_pdf
from pointcare.dicom.pixels import ENCAPSULATED_MEDIA_TYPES, native_frame, stored_frame
from pointcare.dicom.transcoding import can_transcode, to_explicit_little_endian
from pointcare.dicom.video import VIDEO_TRANSFER_SYNTAXES, stored_clip
from pointcare.errors import NotFound
from pointcare.web.dicomweb import links
from pointcare.web.dicomweb.clips import MP4
from pointcare.web.dicomweb.media import DICOM, UNCOMPRESSED, NotAcceptable, Representation
from pointcare.web.dicomweb.multipart import Part
from pointcare.web.dicomweb.rendering import RenderOptions, render_frame

PIXEL_DATA = "7FE00010"
ENCAPSULATED_DOCUMENT = "00420011"
BULK_DATA_KEYWORDS = {PIXEL_DATA: "PixelData", ENCAPSULATED_DOCUMENT: "EncapsulatedDocument"}
"""The bulk data we link to from metadata and serve under ``/bulkdata/{tag}``."""


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
    rows: int | None
    """None for an object without pixels (a document, a key object note)."""

    @property
    def has_pixels(self) -> bool:
        return self.rows is not None

    @property
    def ref(self) -> InstanceRef:
        return InstanceRef(self.study_uid, self.series_uid, self.sop_uid)

    def url(self, service: str) -> str:
        return links.instance_url(service, self.study_uid, self.series_uid, self.sop_uid)


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
            Instance.rows,
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


def convertible(objects: list[StoredObject]) -> bool:
    """Whether every object can be sent in Explicit VR Little Endian."""
    return all(can_transcode(stored.transfer_syntax_uid) for stored in objects)


# --- Objects -----------------------------------------------------------------------------------


def object_parts(
    reader: InstanceReader, objects: list[StoredObject], representation: Representation
) -> list[Part]:
    """The Part-10 objects, each labelled with the transfer syntax it is sent in: as stored, or
    transcoded when its turn comes."""
    target = representation.transfer_syntax
    parts = []
    for stored in objects:
        if target is None or target == stored.transfer_syntax_uid:
            content_type = f"{DICOM}; transfer-syntax={stored.transfer_syntax_uid}"
            source = reader.part10(stored.ref, stored.storage_path)
            if isinstance(source, Path):
                parts.append(Part.from_file(source, content_type))
            else:
                parts.append(Part.from_bytes(source, content_type))
            continue

        def transcoded(stored: StoredObject = stored) -> Iterator[bytes]:
            return to_explicit_little_endian(
                reader.part10(stored.ref, stored.storage_path)
            ).chunks()

        parts.append(Part.made_later(transcoded, f"{DICOM}; transfer-syntax={target}"))
    return parts


# --- Metadata ----------------------------------------------------------------------------------


def header_of(reader: InstanceReader, stored: StoredObject) -> Dataset:
    """The object's data set without its pixels."""
    source = reader.part10(stored.ref, stored.storage_path)
    return dcmread(readable(source), stop_before_pixels=True)


def metadata(
    reader: InstanceReader, objects: list[StoredObject], *, service: str
) -> list[JsonObject]:
    """The full header of each object in DICOM JSON, its bulk data as links."""
    result = []
    for stored in objects:
        source = reader.part10(stored.ref, stored.storage_path)
        dataset = dcmread(readable(source), defer_size=1024)  # large values stay on disk
        dataset.AvailableTransferSyntaxUID = stored.transfer_syntax_uid
        url = stored.url(service)
        links_to = {
            keyword: f"{url}/bulkdata/{tag}"
            for tag, keyword in BULK_DATA_KEYWORDS.items()
            if keyword in dataset
        }
        for keyword in links_to:
            del dataset[keyword]
        result.append(dataset_to_dicom_json(dataset, bulk_data=links_to))
    return result


# --- Frames and bulk data ----------------------------------------------------------------------


def parse_frame_numbers(text: str) -> list[int]:
    """``"1"`` or ``"1,3"`` from a frames path; 400 when malformed."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() and 1 <= int(part) <= 2**31 for part in parts):
        raise ClientException(
            detail="frames must be a comma-separated list of frame numbers from 1, "
            f"got {text[:80]!r}."
        )
    return [int(part) for part in parts]


def frame_count(reader: InstanceReader, stored: StoredObject) -> int:
    """How many frames the object has; ``NotFound`` for an object without pixel data."""
    header = header_of(reader, stored)
    if "Rows" not in header:
        raise NotFound("This object has no pixel data, so no frames.")
    return int(header.get("NumberOfFrames", 1) or 1)


def is_video(stored: StoredObject) -> bool:
    """Whether the object is a video clip: its Pixel Data one MP4 stream."""
    return stored.transfer_syntax_uid in VIDEO_TRANSFER_SYNTAXES


def require_frames(reader: InstanceReader, stored: StoredObject, numbers: list[int]) -> None:
    """``NotFound`` unless the object has every frame of ``numbers``: checked before an answer
    starts, as its parts are made only while it is sent."""
    available = frame_count(reader, stored)
    missing = [number for number in numbers if number > available]
    if missing:
        raise NotFound(f"This instance has {available} frame(s): there is no frame {missing[0]}.")


def stored_frame_type(stored: StoredObject) -> str | None:
    """The media type the object's frames are stored in, if they can be sent as they are."""
    if is_video(stored):
        return MP4
    return ENCAPSULATED_MEDIA_TYPES.get(stored.transfer_syntax_uid)


def frame_parts(
    reader: InstanceReader,
    stored: StoredObject,
    numbers: list[int],
    representation: Representation,
) -> list[Part]:
    """Frames ``numbers`` of ``stored``, each made when its turn comes: read as stored, or
    decoded to uncompressed pixels. A video's frames are its whole MP4 stream, one part however
    many frames are asked for (PS3.18 8.7.3.5.2)."""
    require_frames(reader, stored, numbers)
    decode = representation.transfer_syntax == UNCOMPRESSED and (
        stored.transfer_syntax_uid != UNCOMPRESSED
    )
    if decode and not can_transcode(stored.transfer_syntax_uid):
        raise NotAcceptable(
            detail=f"Frames stored in {stored.transfer_syntax_uid} cannot be decoded here: "
            "ask for transfer-syntax=*."
        )
    syntax = UNCOMPRESSED if decode else stored.transfer_syntax_uid
    content_type = f"{representation.media_type}; transfer-syntax={syntax}"
    if is_video(stored):
        source = partial(reader.part10, stored.ref, stored.storage_path)
        return [Part.made_later(lambda: [stored_clip(source())], content_type)]

    def frame(number: int) -> Iterator[bytes]:
        dataset = dcmread(readable(reader.part10(stored.ref, stored.storage_path)))
        yield native_frame(dataset, number - 1) if decode else stored_frame(dataset, number - 1)

    return [Part.made_later(partial(frame, number), content_type) for number in numbers]


def document(reader: InstanceReader, stored: StoredObject) -> tuple[bytes, str]:
    """The encapsulated document of an object (a PDF) and its MIME type; ``NotFound`` when the
    object holds none."""
    dataset = dcmread(readable(reader.part10(stored.ref, stored.storage_path)))
    if "EncapsulatedDocument" not in dataset:
        raise NotFound("This object holds no encapsulated document.")
    mime_type = str(dataset.get("MIMETypeOfEncapsulatedDocument", "") or "application/pdf")
    return encapsulated_pdf(dataset), mime_type


def rendered(
    reader: InstanceReader,
    stored: StoredObject,
    frame: int,
    options: RenderOptions,
    media_type: str,
) -> bytes:
    """Frame ``frame`` (from 1, checked by ``require_frames``) of an image rendered as
    ``media_type``: the stored JPEG itself when nothing is to change."""
    dataset = dcmread(readable(reader.part10(stored.ref, stored.storage_path)))
    return render_frame(dataset, frame - 1, options, media_type)
