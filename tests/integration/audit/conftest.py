"""The page fixtures (signed-in browsers, the capture form) for the audit trail's tests."""

from __future__ import annotations

from tests.integration.pages.conftest import browser, capture, photo_bytes

__all__ = ["browser", "capture", "photo_bytes"]
