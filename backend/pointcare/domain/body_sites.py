"""Body sites for clinical photographs: SNOMED CT concepts (DICOM CID 4031 and its kin).

A site is *paired* when it exists on both sides of the body (forearm, ear): its photos need a
laterality (R, L or B). Unpaired sites (sacrum, face) take U, DICOM's "unpaired".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pointcare.domain.codes import SCT, Code


class Laterality(StrEnum):
    """DICOM Image Laterality (0020,0062)."""

    RIGHT = "R"
    LEFT = "L"
    BOTH = "B"
    UNPAIRED = "U"

    @property
    def label(self) -> str:
        return {"R": "Right", "L": "Left", "B": "Both sides", "U": "Midline / unpaired"}[self.value]


class Region(StrEnum):
    """Groups for the searchable list and the body map."""

    HEAD_NECK = "Head and neck"
    TRUNK = "Trunk"
    UPPER_LIMB = "Upper limb"
    LOWER_LIMB = "Lower limb"
    PELVIS = "Pelvis and perineum"
    WHOLE = "Whole body"


@dataclass(frozen=True, slots=True)
class BodySite:
    code: Code
    region: Region
    paired: bool
    intimate: bool = False
    """Photos of intimate sites default to sensitive (restricted viewing)."""
    identifying: bool = False
    """Photos of this site usually show the face: Recognizable Visual Features defaults to YES."""

    @property
    def snomed_id(self) -> str:
        return self.code.value

    @property
    def meaning(self) -> str:
        return self.code.meaning

    def laterality_for(self, requested: Laterality | None) -> Laterality:
        """The laterality to record for a photo of this site, or ``ValueError`` when ambiguous."""
        if requested is None:
            if self.paired:
                raise ValueError(f"laterality is required for {self.meaning.lower()}: R, L or B")
            return Laterality.UNPAIRED
        if self.paired and requested is Laterality.UNPAIRED:
            raise ValueError(f"{self.meaning.lower()} is paired: laterality must be R, L or B")
        return requested


def _site(
    code: str,
    meaning: str,
    region: Region,
    *,
    paired: bool,
    intimate: bool = False,
    identifying: bool = False,
) -> BodySite:
    return BodySite(Code(code, SCT, meaning), region, paired, intimate, identifying)


H, T, U, L, P, W = (
    Region.HEAD_NECK,
    Region.TRUNK,
    Region.UPPER_LIMB,
    Region.LOWER_LIMB,
    Region.PELVIS,
    Region.WHOLE,
)

BODY_SITES: tuple[BodySite, ...] = (
    _site("69536005", "Head", H, paired=False, identifying=True),
    _site("41695006", "Scalp", H, paired=False),
    _site("89545001", "Face", H, paired=False, identifying=True),
    _site("81745001", "Eye", H, paired=True, identifying=True),
    _site("80243003", "Eyelid", H, paired=True, identifying=True),
    _site("117590005", "Ear", H, paired=True),
    _site("45206002", "Nose", H, paired=False, identifying=True),
    _site("60819002", "Cheek", H, paired=True, identifying=True),
    _site("48477009", "Lip", H, paired=False, identifying=True),
    _site("123851003", "Mouth", H, paired=False, identifying=True),
    _site("45048000", "Neck", H, paired=False),
    _site("816094009", "Chest", T, paired=False),
    _site("76752008", "Breast", T, paired=True, intimate=True),
    _site("91470000", "Axilla", T, paired=True),
    _site("818981001", "Abdomen", T, paired=False),
    _site("90290004", "Umbilical region", T, paired=False),
    _site("58602004", "Flank", T, paired=True),
    _site("77568009", "Back", T, paired=False),
    _site("52612000", "Lumbar region", T, paired=False),
    _site("54735007", "Sacrum", T, paired=False),
    _site("64688005", "Coccyx", T, paired=False),
    _site("16982005", "Shoulder", U, paired=True),
    _site("40983000", "Upper arm", U, paired=True),
    _site("16953009", "Elbow joint", U, paired=True),
    _site("14975008", "Forearm", U, paired=True),
    _site("8205005", "Wrist region", U, paired=True),
    _site("85562004", "Hand", U, paired=True),
    _site("76505004", "Thumb", U, paired=True),
    _site("7569003", "Finger", U, paired=True),
    _site("29836001", "Hip", L, paired=True),
    _site("46862004", "Buttock", P, paired=True),
    _site("26893007", "Inguinal region", P, paired=True),
    _site("38864007", "Perineum", P, paired=False, intimate=True),
    _site("53505006", "Anus", P, paired=False, intimate=True),
    _site("90418005", "Male external genitalia", P, paired=False, intimate=True),
    _site("86969008", "Female external genitalia", P, paired=False, intimate=True),
    _site("68367000", "Thigh", L, paired=True),
    _site("72696002", "Knee", L, paired=True),
    _site("30021000", "Lower leg", L, paired=True),
    _site("70258002", "Ankle joint", L, paired=True),
    _site("56459004", "Foot", L, paired=True),
    _site("84607009", "Skin of heel", L, paired=True),
    _site("29707007", "Toe", L, paired=True),
    _site("22943007", "Trunk", T, paired=False),
    _site("53120007", "Upper limb", U, paired=True),
    _site("61685007", "Lower limb", L, paired=True),
    _site("38266002", "Entire body", W, paired=False, identifying=True),
)

_BY_CODE = {site.snomed_id: site for site in BODY_SITES}
if len(_BY_CODE) != len(BODY_SITES):  # pragma: no cover - guards the table above
    raise RuntimeError("duplicate SNOMED CT code in BODY_SITES")


def body_site(snomed_id: str) -> BodySite:
    """The site with this SNOMED CT concept id, or ``ValueError`` when it is not offered."""
    try:
        return _BY_CODE[snomed_id.strip()]
    except KeyError:
        raise ValueError(f"unknown body site {snomed_id!r}: see GET /api/v1/body-sites") from None


def parse_laterality(raw: str | None) -> Laterality | None:
    if raw is None or not raw.strip():
        return None
    try:
        return Laterality(raw.strip().upper())
    except ValueError:
        raise ValueError(f"laterality must be R, L, B or U, got {raw!r}") from None


def site_label(code: str) -> str:
    """The site's name as clinicians read it; the code itself when it is no longer offered."""
    try:
        return body_site(code).meaning
    except ValueError:
        return code


def laterality_label(value: str) -> str:
    try:
        return Laterality(value).label
    except ValueError:
        return value


def site_with_side(code: str, laterality: str) -> str:
    """'Left forearm', 'Forearm (both sides)', 'Sacrum': how clinicians say where a photo is."""
    site = site_label(code)
    if laterality in (Laterality.RIGHT, Laterality.LEFT):
        return f"{Laterality(laterality).label} {site[:1].lower()}{site[1:]}"
    if laterality == Laterality.BOTH:
        return f"{site} (both sides)"
    return site
