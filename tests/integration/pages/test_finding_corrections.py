"""A corrected copy of a photo (same patient) stays under its finding, with its measurements."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.db.models import Instance, WoundMeasurement
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.pages.conftest import SignIn
from tests.support.wound_scenes import Camera, ellipse, render

OBERG = "/patients/PC100001"
ISSUER = "?issuer=PCDEMO"


@pytest.fixture(scope="module")
def photo() -> tuple[bytes, list[list[float]]]:
    camera = Camera(1200, 900, 900.0, 10.0, 40.0, 0.0, 150.0, (20.0, 0.0))
    scene = render(camera, ellipse(12.0, 8.0, (40.0, 0.0)), np.random.default_rng(9), blur_px=0.6)
    _, jpeg = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return jpeg.tobytes(), scene.outline_px.round(2).tolist()


def _measured_under_a_finding(
    client: TestClient[Litestar], uid: str, outline: list[list[float]]
) -> int:
    """Open a finding, link the photo, record a measurement (as the browser's session)."""
    headers = {"Accept": "application/json"}
    finding = client.post(
        "/api/v1/patients/PC100001/findings",
        json={"kind": "surgical-wound", "body_site": "14975008", "laterality": "L"},
        headers=headers,
    ).json()
    link = f"/api/v1/patients/PC100001/findings/{finding['id']}/photos"
    assert client.post(link, json={"sop_instance_uid": uid}, headers=headers).status_code == 204
    body = {"sop_instance_uid": uid, "outline": outline, "record": True}
    measured = client.post("/api/v1/patients/PC100001/measurements", json=body, headers=headers)
    assert measured.status_code == 200, measured.text
    return int(finding["id"])


def test_a_details_correction_keeps_the_finding_and_its_measurement(
    browser: SignIn,
    upload: Upload,
    runtime: Runtime,
    photo: tuple[bytes, list[list[float]]],
) -> None:
    jpeg, outline = photo
    uid = upload(jpeg, role="clinician").json()["sop_instance_uid"]
    clinician = browser("clinician")
    finding_id = _measured_under_a_finding(clinician, uid, outline)
    page = clinician.get(f"{OBERG}/photos/{uid}/correct{ISSUER}")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    form = {
        "token": token,
        "kind": "details",
        "description": "Dressing removed",
        "reason": "Describe the dressing",
    }
    assert clinician.post(f"{OBERG}/photos/{uid}/correct{ISSUER}", data=form).status_code == 200
    with runtime.db.session() as session:
        original = session.scalars(select(Instance).where(Instance.sop_instance_uid == uid)).one()
        copy = session.scalars(select(Instance).where(Instance.replaces_id == original.id)).one()
        assert copy.finding_id == finding_id
        (measurement,) = session.scalars(select(WoundMeasurement)).all()
        assert measurement.photo_id == copy.id
