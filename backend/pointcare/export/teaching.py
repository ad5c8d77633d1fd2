"""The teaching export: de-identified JPEGs and a CSV of where each photo shows.

Only photos whose consent allows teaching go in, and of those only ones that are neither
sensitive (intimate) nor recognisable (a face cannot be de-identified). De-identification
follows the DICOM Basic Application Level Confidentiality Profile (PS3.15 E.1) for what a
JPEG and a CSV can carry:

- names, IDs, addresses: not exported; the patient becomes a random case label;
- dates: shifted by one random number of days per export, so intervals between photos (how a
  wound heals) survive but the real dates do not;
- UIDs: replaced by new ones, not derivable from the originals;
- the JPEG carries no metadata segment (no EXIF, no comments), only its pixels;
- free-text descriptions lose anything that matches the patient's names, IDs or birth date.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.dicom.uids import new_uid
from pointcare.domain.objects import ObjectKind
from pointcare.domain.patients import PatientIdentity
from pointcare.export.items import ExportItem
from pointcare.imaging.jpeg_markers import parse, rewrite_without_metadata

REMOVED = "[removed]"
CSV_COLUMNS = (
    "case",
    "file",
    "image_uid",
    "date",
    "body_site_code",
    "body_site",
    "view",
    "description",
)
MAX_SHIFT_DAYS = 3650


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why a selected photo stayed out of a teaching export."""

    reason: str


def exclusion(item: ExportItem) -> Exclusion | None:
    """``None`` when the photo may be used for teaching; else why not."""
    if item.instance.object_kind is ObjectKind.VIDEO:
        return Exclusion("video clip: the teaching set holds still images only")
    if not item.in_force.teaching:
        return Exclusion("no consent for teaching")
    if item.instance.sensitive:
        return Exclusion("sensitive (intimate) photo")
    if item.instance.recognizable:
        return Exclusion("shows the face: cannot be de-identified")
    return None


def teaching_items(items: Sequence[ExportItem]) -> tuple[list[ExportItem], dict[str, int]]:
    """The photos that may go in, and how many were left out for each reason."""
    kept: list[ExportItem] = []
    left_out: dict[str, int] = {}
    for item in items:
        why = exclusion(item)
        if why is None:
            kept.append(item)
        else:
            left_out[why.reason] = left_out.get(why.reason, 0) + 1
    return kept, left_out


def identifiers_of(patient: PatientIdentity) -> list[str]:
    """Strings that identify the patient and must not appear in exported text."""
    found = [patient.mrn, patient.family_name, patient.given_name, patient.visit_number or ""]
    found += [part for name in (patient.family_name, patient.given_name) for part in name.split()]
    if patient.birth_date is not None:
        born = patient.birth_date
        found += [born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%d.%m.%Y")]
        found += [born.strftime("%m/%d/%Y"), born.strftime("%Y%m%d")]
    return sorted({value for value in found if len(value) >= 2}, key=len, reverse=True)


def scrub(text: str, identifiers: Sequence[str]) -> str:
    """``text`` with every identifier replaced (case-insensitive, whole words for names)."""
    for value in identifiers:
        pattern = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE)
        text = pattern.sub(REMOVED, text)
    return text


def pixels_only(frame: bytes) -> bytes:
    """The JPEG with every APPn and COM segment replaced by a bare JFIF header."""
    return rewrite_without_metadata(parse(frame))


def write_teaching_zip(
    patient: PatientIdentity,
    photos: Iterable[tuple[ExportItem, bytes]],
    destination: IO[bytes],
    *,
    left_out: dict[str, int],
    uid_root: str = "",
) -> int:
    """Write the ZIP (JPEGs, ``images.csv``, ``README.txt``); the number of photos in it."""
    case = f"CASE-{secrets.token_hex(4).upper()}"
    shift = timedelta(days=secrets.randbelow(MAX_SHIFT_DAYS) + 1)
    identifiers = identifiers_of(patient)
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED) as archive:
        for item, data in photos:
            count += 1
            name = f"{case}/image-{count:03d}.jpg"
            archive.writestr(name, pixels_only(first_jpeg_frame(data)))
            writer.writerow(
                spreadsheet_cell(cell)
                for cell in (
                    case,
                    name,
                    new_uid(uid_root),
                    (item.taken - shift).date().isoformat(),
                    item.instance.body_site_code,
                    item.where,
                    item.view,
                    scrub(item.instance.description, identifiers),
                )
            )
        archive.writestr("images.csv", table.getvalue())
        archive.writestr("README.txt", _readme(count, left_out))
    return count


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What makes a spreadsheet read a cell as a formula (the full-width forms too)."""


def spreadsheet_cell(value: object) -> str:
    """``value`` as a CSV cell no spreadsheet runs: a description typed as
    ``=HYPERLINK(...)`` is shown as text, with a leading apostrophe (OWASP's advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def _readme(count: int, left_out: dict[str, int]) -> str:
    lines = [
        "Teaching set exported from Pointcare.",
        "",
        f"{count} photo(s), de-identified (DICOM PS3.15 Basic Application Level Confidentiality",
        "Profile): no names or IDs, dates shifted by one random number of days, new UIDs,",
        "JPEGs without metadata. Only photos with consent for teaching are included.",
    ]
    if left_out:
        lines += ["", "Left out:"]
        lines += [f"- {number} photo(s): {reason}" for reason, number in sorted(left_out.items())]
    return "\n".join(lines) + "\n"
