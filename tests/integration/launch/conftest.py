"""An app that trusts one HS256 test issuer (settings only, no issuers file)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pointcare.settings import Settings
from tests.support.launch import AUDIENCE, HS_ISSUER, HS_SECRET


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings,
        launch_issuer=HS_ISSUER,
        launch_issuer_secret=HS_SECRET,
        launch_audience=AUDIENCE,
    )
