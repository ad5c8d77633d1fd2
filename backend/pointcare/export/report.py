"""The documentation report: a PDF for insurers and courts.

Page 1 says whose photos these are, who made the report and when, and lists the photos. Then
one page per photo: the image as large as the page allows (the stored JPEG itself, embedded
without re-encoding), and beside it where and when it was taken, by whom, the consent, the SOP
Instance UID and the SHA-256 of the stored object, so that anyone can check a printed photo
against the archive. Every page repeats the patient and carries "page N of M".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pointcare.dicom.part10 import first_jpeg_frame
from pointcare.domain.objects import ObjectKind
from pointcare.domain.patients import PatientIdentity
from pointcare.export.items import ExportItem

log = logging.getLogger(__name__)
# fpdf2 subsets fonts with fontTools, which logs every glyph list at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
"""Where DejaVu Sans is looked for (Debian's fonts-dejavu-core): it covers every script a
patient's name may be written in that Latin-1 does not."""

MARGIN = 15.0
IMAGE_BOX_HEIGHT = 165.0


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Who and what the report is about, and who made it."""

    patient: PatientIdentity
    institution: str
    generated_by: str
    generated_at: datetime


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _consent(item: ExportItem) -> str:
    """The consent in force now; how it was given at capture; when it last changed."""
    now, given = item.in_force, item.consent
    text = (
        f"clinical record {_yes_no(now.clinical_record)}, teaching {_yes_no(now.teaching)}, "
        f"publication {_yes_no(now.publication)} (at capture: {item.consent_method.lower()}, "
        f"recorded by {given.recorded_by.display_name}"
    )
    if now.changed_at is not None:
        text += f"; changed {now.changed_at:%Y-%m-%d %H:%M} UTC"
    return text + ")"


class _Report(FPDF):
    def __init__(self, context: ReportContext) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.context = context
        self.family = self._fonts()
        self.set_margins(MARGIN, MARGIN + 12, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 8)
        self.set_title("Clinical photography report")
        self.set_author(context.institution)
        self.set_creator("Pointcare")

    def _fonts(self) -> str:
        for folder in FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                return "DejaVu"
        log.warning("DejaVu Sans not found: the report falls back to Helvetica (Latin-1 only)")
        return "Helvetica"

    def text_of(self, value: str) -> str:
        """Text the font can show: Helvetica has only Latin-1, so other characters become '?'."""
        if self.family == "DejaVu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def header(self) -> None:
        patient = self.context.patient
        self.set_y(MARGIN - 5)
        self.set_font(self.family, "B", 10)
        self.cell(0, 5, self.text_of(self.context.institution), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 9)
        born = patient.birth_date.isoformat() if patient.birth_date else "unknown"
        line = (
            f"{patient.display_name} · born {born} · sex {patient.sex.value} · "
            f"MRN {patient.mrn} ({patient.issuer})"
        )
        self.cell(0, 5, self.text_of(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.line(MARGIN, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
        self.set_y(self.get_y() + 5)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(self.family, "", 8)
        generated = self.context.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
        self.cell(
            0,
            5,
            self.text_of(f"Generated {generated} by {self.context.generated_by}"),
            align="L",
        )
        self.set_x(MARGIN)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    def heading(self, text: str) -> None:
        self.set_font(self.family, "B", 15)
        self.multi_cell(0, 8, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def field(self, label: str, value: str) -> None:
        self.set_font(self.family, "B", 9)
        self.cell(50, 5.5, self.text_of(label))
        self.set_font(self.family, "", 9)
        self.multi_cell(0, 5.5, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def build_report(
    context: ReportContext,
    photos: Iterable[tuple[ExportItem, bytes]],
    *,
    poster: Callable[[ExportItem], bytes],
) -> bytes:
    """The PDF of ``photos`` (each item with its verified stored Part-10 object). A video clip's
    page shows its poster frame (``poster``): a PDF cannot play it."""
    pdf = _Report(context)
    photos = list(photos)
    pdf.add_page()
    pdf.heading("Clinical photography report")
    pdf.field("Patient", context.patient.display_name)
    pdf.field(
        "Birth date", context.patient.birth_date.isoformat() if context.patient.birth_date else ""
    )
    pdf.field("MRN", f"{context.patient.mrn} ({context.patient.issuer})")
    pdf.field("Photos", str(len(photos)))
    pdf.field("Generated by", context.generated_by)
    pdf.field("Generated at", context.generated_at.isoformat(timespec="seconds"))
    pdf.ln(4)
    pdf.set_font(pdf.family, "B", 9)
    pdf.cell(0, 6, "Contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(pdf.family, "", 9)
    for number, (item, _data) in enumerate(photos, start=1):
        line = f"{number}. {item.taken:%Y-%m-%d %H:%M} · {item.where}"
        pdf.cell(0, 5.5, pdf.text_of(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for number, (item, data) in enumerate(photos, start=1):
        clip = item.instance.object_kind is ObjectKind.VIDEO
        _photo_page(pdf, number, item, poster(item) if clip else first_jpeg_frame(data), clip)
    return bytes(pdf.output())


def _photo_page(pdf: _Report, number: int, item: ExportItem, jpeg: bytes, clip: bool) -> None:
    instance = item.instance
    pdf.add_page()
    what = "Video clip" if clip else "Photo"
    pdf.heading(f"{what} {number}: {item.where}, {item.taken:%Y-%m-%d %H:%M}")
    top = pdf.get_y()
    width = pdf.w - 2 * MARGIN
    box_height = IMAGE_BOX_HEIGHT
    columns, rows = instance.size
    scale = min(width / max(columns, 1), box_height / max(rows, 1))
    image_w, image_h = columns * scale, rows * scale
    pdf.image(
        BytesIO(jpeg),
        x=MARGIN + (width - image_w) / 2,
        y=top,
        w=image_w,
        h=image_h,
        alt_text=f"Photo {number}: {item.where}",
    )
    pdf.set_y(top + image_h + 4)
    pdf.field("Body site", item.where)
    if item.view:
        pdf.field("View", item.view)
    if instance.description:
        pdf.field("Description", instance.description)
    offset = item.taken.strftime("%z")
    pdf.field("Taken", f"{item.taken:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})")
    pdf.field("Taken by", instance.operator.display_name)
    pdf.field("Consent", _consent(item))
    pdf.field("Size", f"{instance.columns} × {instance.rows} pixels")
    if clip:
        pdf.field("Video", "One frame shown: the clip plays in Pointcare, and is in DICOM exports")
    pdf.field("SOP Instance UID", instance.sop_instance_uid)
    pdf.field("Study Instance UID", instance.study.study_instance_uid)
    pdf.field("SHA-256 (stored object)", instance.sha256)
