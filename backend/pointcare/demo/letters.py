"""A referral letter for the demo: a real one-page PDF, made with the report's PDF library."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pointcare.domain.patients import PatientIdentity


def referral_letter(patient: PatientIdentity, *, written: date, about: str) -> bytes:
    """A GP's referral to the wound clinic (ASCII only: the PDF's core font)."""
    pdf = FPDF(format="A4")
    pdf.set_title("Referral letter")
    # The letter's own date, not the clock: the same letter every time it is made.
    pdf.set_creation_date(datetime(written.year, written.month, written.day, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Riverside Health Centre", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "Demo practice - not a real letter", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.cell(0, 6, f"Date: {written:%d %B %Y}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, "To: Tissue viability clinic", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    born = f"{patient.birth_date:%d %B %Y}" if patient.birth_date else "unknown"
    pdf.set_font("Helvetica", "B", 11)
    name = f"{patient.family_name.upper()}, {patient.given_name}"
    pdf.cell(0, 6, f"Re: {name}, born {born}, MRN {patient.mrn}")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, f"Dear colleague,\n\n{about}\n\nKind regards,\n\nDr A. Example, GP")
    return bytes(pdf.output())
