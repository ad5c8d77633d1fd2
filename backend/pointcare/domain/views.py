"""Photographic views: how close the camera was (View Code Sequence, 0054,0220)."""

from __future__ import annotations

from enum import StrEnum

from pointcare.domain.codes import LOCAL_SCHEME, Code


class View(StrEnum):
    OVERVIEW = "overview"
    CLOSE_UP = "close-up"
    DERMOSCOPIC = "dermoscopic"

    @property
    def label(self) -> str:
        return {"overview": "Overview", "close-up": "Close-up", "dermoscopic": "Dermoscopic"}[
            self.value
        ]

    @property
    def code(self) -> Code:
        return VIEW_CODES[self]

    @classmethod
    def parse(cls, raw: str | None) -> View | None:
        if raw is None or not raw.strip():
            return None
        cleaned = raw.strip().lower().replace("_", "-").replace(" ", "-")
        if cleaned == "closeup":
            cleaned = "close-up"
        try:
            return cls(cleaned)
        except ValueError:
            choices = ", ".join(v.value for v in cls)
            raise ValueError(f"view must be one of {choices}, got {raw!r}") from None


VIEW_CODES: dict[View, Code] = {
    View.OVERVIEW: Code("OVERVIEW", LOCAL_SCHEME, "Overview (regional) photograph"),
    View.CLOSE_UP: Code("CLOSEUP", LOCAL_SCHEME, "Close-up photograph"),
    View.DERMOSCOPIC: Code("DERMOSCOPIC", LOCAL_SCHEME, "Dermoscopic photograph"),
}


def view_label(value: str | None) -> str:
    """'Close-up', as the pages say it; empty when no view was given."""
    return View(value).label if value else ""
