"""Helpers for tests that go through HTTP: uploading photos and reading what was stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.auth.accounts import add_user
from pointcare.auth.tokens import mint_api_token
from pointcare.identity.demo import seed_demo
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from tests.support.consent import CLINICAL_ONLY

Upload = Callable[..., httpx.Response]
LimitedClient = Callable[..., httpx.Response]


@pytest.fixture
def upload(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> Upload:
    """``upload(path_or_bytes, **fields)`` posts a photo as the photographer (nurse)."""

    def post(
        photo: Path | bytes,
        *,
        role: str = "photographer",
        filename: str = "photo.jpg",
        **fields: Any,
    ) -> httpx.Response:
        data = photo.read_bytes() if isinstance(photo, Path) else photo
        form = {
            "patient_id": "PC100001",
            "body_site": "14975008",
            "laterality": "L",
            "capture_id": str(uuid.uuid4()),
            "captured_at": "2026-05-04T10:15:00+02:00",
            "allow_duplicate": "true",
            **CLINICAL_ONLY,
        }
        form.update({key: str(value) for key, value in fields.items() if value is not None})
        for key in [key for key, value in fields.items() if value is None]:
            form.pop(key, None)
        return client.post(
            "/api/v1/photos",
            data=form,
            files={"file": (filename, data, "application/octet-stream")},
            headers=bearer(role),
        )

    return post


@pytest.fixture
def limited_client(settings: Settings) -> Iterator[LimitedClient]:
    """``limited_client(photo, **setting_changes)``: post a photo to an app with other limits;
    with ``chunked=True`` the body is streamed in 64 KiB pieces without a Content-Length."""
    runtimes: list[Runtime] = []

    def post(photo: bytes, chunked: bool = False, **changes: Any) -> httpx.Response:
        changed = replace(settings, **changes)
        runtime = build_runtime(changed)
        runtimes.append(runtime)
        with runtime.db.write() as session:
            seed_demo(session)
            user_id = add_user(
                session, username="n", role="photographer", password="long-enough-password"
            ).id
        token = mint_api_token(secret_key=changed.secret_key, user_id=user_id, ttl_seconds=60)
        request = httpx.Request(
            "POST",
            "http://testserver.local/api/v1/photos",
            data={"patient_id": "PC100001", "body_site": "54735007", **CLINICAL_ONLY},
            files={"file": ("photo.jpg", photo, "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = request.read()
        headers = dict(request.headers)
        if chunked:
            del headers["content-length"]
        pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
        with TestClient(create_app(changed, runtime=runtime)) as client:
            return client.post(
                "/api/v1/photos", content=pieces if chunked else body, headers=headers
            )

    yield post
    for runtime in runtimes:
        runtime.close()


PostClip = Callable[..., httpx.Response]


@pytest.fixture
def post_clip(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> PostClip:
    """``post_clip(data, **fields)`` posts a video clip as the photographer (nurse)."""
    return clip_poster(client, bearer)


def clip_poster(client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]]) -> PostClip:
    """What ``post_clip`` gives, for fixtures of a wider scope."""

    def post(data: bytes, *, role: str = "photographer", **fields: Any) -> httpx.Response:
        form = {
            "patient_id": "PC100001",
            "body_site": "14975008",
            "laterality": "L",
            "view": "overview",
            "capture_id": str(uuid.uuid4()),
            "captured_at": "2026-05-04T10:15:00+02:00",
            **CLINICAL_ONLY,
        } | {key: str(value) for key, value in fields.items()}
        return client.post(
            "/api/v1/videos",
            data=form,
            files={"file": ("clip", data, "application/octet-stream")},
            headers=bearer(role),
        )

    return post
