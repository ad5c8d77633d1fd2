"""GET /api/v1/body-sites: the body sites a photo can be tagged with."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import get

from pointcare.domain.body_sites import BODY_SITES
from pointcare.domain.views import View


@dataclass
class BodySiteOut:
    code: str
    scheme: str
    meaning: str
    region: str
    paired: bool
    intimate: bool


@dataclass
class ViewOut:
    value: str
    label: str


@get("/api/v1/body-sites", tags=["catalogue"], sync_to_thread=False)
def list_body_sites() -> list[BodySiteOut]:
    """SNOMED CT body sites; ``paired`` sites need a laterality (R, L or B)."""
    return [
        BodySiteOut(s.code.value, s.code.scheme, s.meaning, s.region.value, s.paired, s.intimate)
        for s in BODY_SITES
    ]


@get("/api/v1/views", tags=["catalogue"], sync_to_thread=False)
def list_views() -> list[ViewOut]:
    """Photographic views (overview, close-up, dermoscopic)."""
    return [ViewOut(v.value, v.label) for v in View]
