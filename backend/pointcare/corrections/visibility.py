"""Which index rows the clinic sees: every object that no rejection note has rejected, and of
those, the images (what timelines, compare, consent pages and exports list)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from pointcare.db.models import Instance
from pointcare.domain.objects import ObjectKind

IMAGE_KINDS = tuple(kind.value for kind in ObjectKind if kind.is_image)


def not_rejected() -> ColumnElement[bool]:
    """The WHERE clause for objects still in force (QIDO-RS and WADO-RS serve all of them)."""
    return Instance.rejected_at.is_(None)


def images_in_force() -> ColumnElement[bool]:
    """The WHERE clause for the images still in force: the pages' photos."""
    return and_(Instance.kind.in_(IMAGE_KINDS), Instance.rejected_at.is_(None))
