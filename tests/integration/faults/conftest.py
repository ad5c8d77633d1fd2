"""Helpers for the fault tests: a seeded installation (demo patients, a clinician's token) and
uploads that report their answer instead of asserting one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from pointcare.auth.accounts import add_user
from pointcare.auth.tokens import mint_api_token
from pointcare.identity.demo import seed_demo
from pointcare.runtime import build_runtime
from pointcare.settings import Settings
from tests.support.consent import CLINICAL_ONLY

PATIENT = "PC100001"
FOREARM = "14975008"


def seed(settings: Settings) -> dict[str, str]:
    """Demo patients and a clinician (who may capture and read); the bearer header."""
    runtime = build_runtime(settings)
    try:
        with runtime.db.write() as session:
            seed_demo(session)
            user = add_user(
                session, username="carer", role="clinician", password="a-long-test-password"
            )
            token = mint_api_token(
                secret_key=settings.secret_key, user_id=user.id, ttl_seconds=3600
            )
    finally:
        runtime.close()
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Sent:
    capture_id: str
    photo: bytes
    response: httpx.Response


def send_photo(
    client: httpx.Client, headers: dict[str, str], photo: bytes, capture_id: str | None = None
) -> Sent:
    capture_id = capture_id or str(uuid.uuid4())
    response = client.post(
        "/api/v1/photos",
        data={
            "patient_id": PATIENT,
            "body_site": FOREARM,
            "laterality": "L",
            "capture_id": capture_id,
            "captured_at": "2026-05-04T10:15:00+02:00",
            **CLINICAL_ONLY,
        },
        files={"file": ("photo.jpg", photo, "image/jpeg")},
        headers=headers,
    )
    return Sent(capture_id, photo, response)


def wado_path(answer: dict[str, str]) -> str:
    return (
        f"/dicomweb/studies/{answer['study_instance_uid']}"
        f"/series/{answer['series_instance_uid']}/instances/{answer['sop_instance_uid']}"
    )


WADO_ACCEPT = {"Accept": 'multipart/related; type="application/dicom"'}
