"""GET /api/v1/body-sites: the body sites a photo can be tagged with."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import get

from pointcare.domain.body_sites import BODY_SITES
from pointcare.domain.views import View


@dataclass
class AspectOut:
    value: str
    """What the ``aspect`` field of a capture takes."""
    code: str
    """The SNOMED CT anatomic modifier (DICOM CID 2) written for it."""
    label: str
    """How clinicians say it of this site ("palm side" of a hand)."""


@dataclass
class BodySiteOut:
    code: str
    scheme: str
    meaning: str
    region: str
    paired: bool
    intimate: bool
    aspects: list[AspectOut]
    """The faces a photo of this site may name (front, back...); empty: none."""
    parent: str | None
    """For a finer site (a finger): the code of the site the body map zooms into to show it."""


@dataclass
class ViewOut:
    value: str
    label: str


@get("/api/v1/body-sites", tags=["catalogue"], sync_to_thread=False)
def list_body_sites() -> list[BodySiteOut]:
    """SNOMED CT body sites; ``paired`` sites need a laterality (R, L or B), and a photo may
    name one of a site's ``aspects``."""
    return [
        BodySiteOut(
            s.code.value,
            s.code.scheme,
            s.meaning,
            s.region.value,
            s.paired,
            s.intimate,
            [AspectOut(a.value, a.code.value, s.aspect_word(a)) for a in s.aspects],
            s.parent,
        )
        for s in BODY_SITES
    ]


@get("/api/v1/views", tags=["catalogue"], sync_to_thread=False)
def list_views() -> list[ViewOut]:
    """Photographic views (overview, close-up, dermoscopic)."""
    return [ViewOut(v.value, v.label) for v in View]
