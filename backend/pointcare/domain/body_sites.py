"""Body sites for clinical photographs: SNOMED CT concepts (DICOM CID 4031 and its kin).

A site is *paired* when it exists on both sides of the body (forearm, ear): its photos need a
laterality (R, L or B). Unpaired sites (sacrum, face) take U, DICOM's "unpaired".

A site may also be seen from one of its *aspects* (the front or back of a thigh, the sole of a
foot): an anatomic modifier from DICOM CID 2, recorded in the Anatomic Region Modifier
Sequence. Which aspects a site offers, and the words clinicians use for them ("palm side",
"sole"), are its :class:`Surfaces`.

The body map draws the coarse sites on a whole figure; a few of them (head, hand, foot) zoom
into their finer sites (fingers, toes, heel, eye, ear...), each of which names that region as
its ``parent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

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


class Aspect(StrEnum):
    """Which face of a body site a photo shows: anatomic modifiers of DICOM CID 2 (SNOMED CT),
    written in the Anatomic Region Modifier Sequence (0008,0220)."""

    ANTERIOR = "anterior"
    POSTERIOR = "posterior"
    MEDIAL = "medial"
    LATERAL = "lateral"
    PROXIMAL = "proximal"
    DISTAL = "distal"
    SUPERIOR = "superior"
    INFERIOR = "inferior"

    @property
    def label(self) -> str:
        """The standard's name ("Anterior"): the code meaning, and the findings form's choice."""
        return self.value.capitalize()

    @property
    def word(self) -> str:
        """How clinicians say it of most sites ("front"); a site's :class:`Surfaces` may say
        it otherwise ("palm side" of a hand)."""
        return _ASPECT_WORDS[self]

    @property
    def code(self) -> Code:
        return Code(_ASPECT_CODES[self], SCT, self.label)


_ASPECT_CODES = {
    Aspect.ANTERIOR: "255549009",
    Aspect.POSTERIOR: "255551008",
    Aspect.MEDIAL: "255561001",
    Aspect.LATERAL: "49370004",
    Aspect.PROXIMAL: "40415009",
    Aspect.DISTAL: "46053002",
    Aspect.SUPERIOR: "264217000",
    Aspect.INFERIOR: "261089000",
}
_ASPECT_WORDS = {
    Aspect.ANTERIOR: "front",
    Aspect.POSTERIOR: "back",
    Aspect.MEDIAL: "inner side",
    Aspect.LATERAL: "outer side",
    Aspect.PROXIMAL: "proximal",
    Aspect.DISTAL: "distal",
    Aspect.SUPERIOR: "upper side",
    Aspect.INFERIOR: "underside",
}


def parse_aspect(raw: str | None) -> Aspect | None:
    if raw is None or not raw.strip():
        return None
    try:
        return Aspect(raw.strip().lower())
    except ValueError:
        choices = ", ".join(aspect.value for aspect in Aspect)
        raise ValueError(f"aspect must be one of {choices}, got {raw[:20]!r}") from None


@dataclass(frozen=True, slots=True)
class Surfaces:
    """The aspects a site can be photographed from, which of them the body map's front and
    back views show (None: that view does not show the site's surfaces), and the words
    clinicians use where they differ from the aspect's own ("palm side", "sole")."""

    front: Aspect | None
    back: Aspect | None
    more: tuple[Aspect, ...] = ()
    words: Mapping[Aspect, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def aspects(self) -> tuple[Aspect, ...]:
        both = tuple(a for a in (self.front, self.back) if a is not None)
        return both + tuple(a for a in self.more if a not in both)

    def word(self, aspect: Aspect) -> str:
        return self.words.get(aspect, aspect.word)


_A = Aspect
LIMB_SURFACES = Surfaces(_A.ANTERIOR, _A.POSTERIOR, (_A.MEDIAL, _A.LATERAL))
"""Arm and leg segments: in the anatomical position the front view shows their anterior face."""
FRONT_BACK_SURFACES = Surfaces(_A.ANTERIOR, _A.POSTERIOR)
HAND_SURFACES = Surfaces(
    _A.ANTERIOR, _A.POSTERIOR, words=MappingProxyType({_A.ANTERIOR: "palm side"})
)
"""In the anatomical position the palm faces forward: anterior is the palm, posterior the back
of the hand (CID 2 has no palmar or dorsal)."""
FOOT_SURFACES = Surfaces(
    _A.SUPERIOR,
    _A.INFERIOR,
    (_A.MEDIAL, _A.LATERAL),
    MappingProxyType({_A.SUPERIOR: "top", _A.INFERIOR: "sole"}),
)
"""The top of the foot faces up (superior), the sole down (inferior): CID 2 has no dorsal or
plantar."""
HEEL_SURFACES = Surfaces(
    None,
    _A.POSTERIOR,
    (_A.INFERIOR, _A.MEDIAL, _A.LATERAL),
    MappingProxyType({_A.INFERIOR: "underside"}),
)
NONE = Surfaces(None, None)


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
    surfaces: Surfaces = NONE
    """The aspects it may be photographed from; none for a site that is one face already."""
    parent: str | None = None
    """For a finer site (a finger): the code of the body map region whose zoomed view shows it
    (the hand)."""

    @property
    def snomed_id(self) -> str:
        return self.code.value

    @property
    def meaning(self) -> str:
        return self.code.meaning

    @property
    def aspects(self) -> tuple[Aspect, ...]:
        return self.surfaces.aspects

    def laterality_for(self, requested: Laterality | None) -> Laterality:
        """The laterality to record for a photo of this site, or ``ValueError`` when ambiguous."""
        if requested is None:
            if self.paired:
                raise ValueError(f"laterality is required for {self.meaning.lower()}: R, L or B")
            return Laterality.UNPAIRED
        if self.paired and requested is Laterality.UNPAIRED:
            raise ValueError(f"{self.meaning.lower()} is paired: laterality must be R, L or B")
        return requested

    def aspect_for(self, requested: Aspect | None) -> Aspect | None:
        """The aspect to record for a photo of this site (None: not stated), or ``ValueError``
        when the site has no such face."""
        if requested is None or requested in self.aspects:
            return requested
        if not self.aspects:
            raise ValueError(f"{self.meaning.lower()} takes no aspect")
        offered = ", ".join(aspect.value for aspect in self.aspects)
        raise ValueError(f"the aspect of {self.meaning.lower()} must be one of {offered}")

    def aspect_word(self, aspect: Aspect) -> str:
        """ "palm side" for the anterior aspect of a hand, "front" for that of a thigh."""
        return self.surfaces.word(aspect)


def _site(
    code: str,
    meaning: str,
    region: Region,
    *,
    paired: bool,
    intimate: bool = False,
    identifying: bool = False,
    surfaces: Surfaces = NONE,
    parent: str | None = None,
) -> BodySite:
    return BodySite(
        Code(code, SCT, meaning), region, paired, intimate, identifying, surfaces, parent
    )


H, T, U, L, P, W = (
    Region.HEAD_NECK,
    Region.TRUNK,
    Region.UPPER_LIMB,
    Region.LOWER_LIMB,
    Region.PELVIS,
    Region.WHOLE,
)
HEAD, HAND, FOOT = "69536005", "85562004", "56459004"
"""The body map regions that zoom into finer sites."""
LIMB, FRONT_BACK = LIMB_SURFACES, FRONT_BACK_SURFACES

# Coarse sites are on the whole-body map; finer ones (``parent``) in the zoomed view of the
# head, a hand or a foot. Codes are those of DICOM PS3.16 (CID 4, 4028, 4029, 4031) where it
# lists the site; the single fingers and toes, which it does not list, are the SNOMED CT body
# structures national body-site value sets use (Anatomic Region Sequence is extensible).
BODY_SITES: tuple[BodySite, ...] = (
    _site("69536005", "Head", H, paired=False, identifying=True, surfaces=FRONT_BACK),
    _site("41695006", "Scalp", H, paired=False, parent=HEAD),
    _site("52795006", "Forehead", H, paired=False, identifying=True, parent=HEAD),
    _site("89545001", "Face", H, paired=False, identifying=True, parent=HEAD),
    _site("81745001", "Eye", H, paired=True, identifying=True, parent=HEAD),
    _site("80243003", "Eyelid", H, paired=True, identifying=True, parent=HEAD),
    _site("117590005", "Ear", H, paired=True, surfaces=FRONT_BACK, parent=HEAD),
    _site("45206002", "Nose", H, paired=False, identifying=True, parent=HEAD),
    _site("60819002", "Cheek", H, paired=True, identifying=True, parent=HEAD),
    _site("48477009", "Lip", H, paired=False, identifying=True, parent=HEAD),
    _site("123851003", "Mouth", H, paired=False, identifying=True, parent=HEAD),
    _site("45048000", "Neck", H, paired=False, surfaces=FRONT_BACK, parent=HEAD),
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
    _site("16982005", "Shoulder", U, paired=True, surfaces=LIMB),
    _site("40983000", "Upper arm", U, paired=True, surfaces=LIMB),
    _site("16953009", "Elbow joint", U, paired=True, surfaces=LIMB),
    _site("14975008", "Forearm", U, paired=True, surfaces=LIMB),
    _site("8205005", "Wrist region", U, paired=True, surfaces=LIMB, parent=HAND),
    _site("85562004", "Hand", U, paired=True, surfaces=HAND_SURFACES),
    _site("76505004", "Thumb", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("83738005", "Index finger", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("65531009", "Middle finger", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("82002001", "Ring finger", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("12406000", "Little finger", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("7569003", "Finger", U, paired=True, surfaces=HAND_SURFACES, parent=HAND),
    _site("29836001", "Hip", L, paired=True, surfaces=LIMB),
    _site("46862004", "Buttock", P, paired=True),
    _site("26893007", "Inguinal region", P, paired=True),
    _site("38864007", "Perineum", P, paired=False, intimate=True),
    _site("53505006", "Anus", P, paired=False, intimate=True),
    _site("90418005", "Male external genitalia", P, paired=False, intimate=True),
    _site("86969008", "Female external genitalia", P, paired=False, intimate=True),
    _site("68367000", "Thigh", L, paired=True, surfaces=LIMB),
    _site("72696002", "Knee", L, paired=True, surfaces=LIMB),
    _site("30021000", "Lower leg", L, paired=True, surfaces=LIMB),
    _site("70258002", "Ankle joint", L, paired=True, surfaces=LIMB, parent=FOOT),
    _site("56459004", "Foot", L, paired=True, surfaces=FOOT_SURFACES),
    _site("84607009", "Skin of heel", L, paired=True, surfaces=HEEL_SURFACES, parent=FOOT),
    _site("78883009", "Great toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("55078004", "Second toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("78132007", "Third toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("80349001", "Fourth toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("39915008", "Fifth toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("29707007", "Toe", L, paired=True, surfaces=FOOT_SURFACES, parent=FOOT),
    _site("22943007", "Trunk", T, paired=False, surfaces=FRONT_BACK),
    _site("53120007", "Upper limb", U, paired=True, surfaces=LIMB),
    _site("61685007", "Lower limb", L, paired=True, surfaces=LIMB),
    _site("38266002", "Entire body", W, paired=False, identifying=True, surfaces=FRONT_BACK),
)

SITE_ASPECTS: tuple[Aspect, ...] = tuple(
    aspect for aspect in Aspect if any(aspect in site.aspects for site in BODY_SITES)
)
"""The aspects some site offers, in the standard's order: the choices of a form."""

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


def aspect_word(code: str, aspect: str | None) -> str:
    """ "back" for the posterior aspect of a forearm, "sole" for the inferior one of a foot;
    empty for none (or one no longer known)."""
    try:
        chosen = Aspect(aspect) if aspect else None
    except ValueError:
        return ""
    if chosen is None:
        return ""
    try:
        return body_site(code).aspect_word(chosen)
    except ValueError:
        return chosen.word


def site_with_side(code: str, laterality: str, aspect: str | None = None) -> str:
    """'Left forearm, back', 'Forearm (both sides)', 'Sacrum': how clinicians say where a photo
    is."""
    site = site_label(code)
    if laterality in (Laterality.RIGHT, Laterality.LEFT):
        where = f"{Laterality(laterality).label} {site[:1].lower()}{site[1:]}"
    elif laterality == Laterality.BOTH:
        where = f"{site} (both sides)"
    else:
        where = site
    word = aspect_word(code, aspect)
    return f"{where}, {word}" if word else where
