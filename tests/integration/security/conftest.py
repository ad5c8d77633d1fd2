"""Fixtures of the access-control and hardening tests: the page fixtures (browsers signed in
by role, the capture form) and a stored photo, sensitive or not."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from tests.integration.pages import conftest as pages
from tests.integration.pages.conftest import Capture, SignIn

# The page fixtures, shared with these tests.
browser = pages.browser
capture = pages.capture
photo_bytes = pages.photo_bytes


@dataclass(frozen=True)
class StoredPhoto:
    study: str
    series: str
    sop: str

    def dicomweb(self, suffix: str = "") -> str:
        return f"/dicomweb/studies/{self.study}/series/{self.series}/instances/{self.sop}{suffix}"


StorePhoto = Callable[..., StoredPhoto]


def stored_photo(runtime: Runtime, html: str) -> StoredPhoto:
    """The UIDs of the photo a capture answer reports (its SOP Instance UID, then the index)."""
    found = re.search(r'SOP Instance UID <span class="mono">([0-9.]+)<', html)
    assert found, "no SOP Instance UID in the answer"
    with runtime.db.session() as session:
        instance = session.scalars(
            select(Instance)
            .where(Instance.sop_instance_uid == found.group(1))
            .options(joinedload(Instance.study), joinedload(Instance.series))
        ).one()
        return StoredPhoto(
            instance.study.study_instance_uid,
            instance.series.series_instance_uid,
            instance.sop_instance_uid,
        )


@pytest.fixture
def store_photo(browser: SignIn, capture: Capture, runtime: Runtime) -> StorePhoto:
    """``store_photo(sensitive=True, patient="/patients/PC100002")``: a photo stored through the
    capture form by the photographer."""
    nurse: list[TestClient[Litestar]] = []

    def store(**fields: object) -> StoredPhoto:
        nurse.append(nurse[0] if nurse else browser("photographer"))
        if fields.pop("sensitive", False):
            fields["sensitive"] = "true"
        answer = capture(nurse[0], **fields)
        assert answer.status_code == 201, answer.text
        return stored_photo(runtime, answer.text)

    return store
