"""Sensitive photos: blurred by the server in lists, opened only after breaking the glass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, ImageFilter, ImageStat
from sqlalchemy import func, select, update

from pointcare import audit
from pointcare.db.models import AuditRecord, BreakGlassGrant
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import OBERG, SignIn
from tests.integration.security.conftest import StoredPhoto, StorePhoto

GLASS = f"{OBERG}/break-glass?issuer=PCDEMO"
REASON = "Wound review before the dressing change"


def detail(jpeg: bytes) -> float:
    """How much fine detail an image holds: the mean of its edge map."""
    with Image.open(BytesIO(jpeg)) as image:
        edges = image.convert("L").filter(ImageFilter.FIND_EDGES)
        return float(ImageStat.Stat(edges).mean[0])


JPEG = {"Accept": "image/jpeg"}
PNG = {"Accept": "image/png"}
DICOM = {"Accept": 'multipart/related; type="application/dicom"'}
AS_STORED = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
FRAME = {"Accept": 'multipart/related; type="image/jpeg"'}
UNCOMPRESSED_FRAME = {"Accept": 'multipart/related; type="application/octet-stream"'}
RENDERED_PARTS = {"Accept": 'multipart/related; type="image/jpeg"'}


def full_image_answers(
    client: TestClient[Litestar], photo: StoredPhoto, *, whole_study: bool = True
) -> dict[str, int]:
    """What each way of getting the full photo answers (status codes): every WADO-RS path that
    sends its pixels, in every representation."""
    answers = {
        "instance": client.get(photo.dicomweb(), headers=DICOM),
        "instance as stored": client.get(photo.dicomweb(), headers=AS_STORED),
        "frames": client.get(photo.dicomweb("/frames/1"), headers=FRAME),
        "frames uncompressed": client.get(photo.dicomweb("/frames/1"), headers=UNCOMPRESSED_FRAME),
        "pixel bulk data": client.get(
            photo.dicomweb("/bulkdata/7FE00010"), headers=UNCOMPRESSED_FRAME
        ),
        "rendered": client.get(photo.dicomweb("/rendered"), headers=JPEG),
        "rendered png": client.get(photo.dicomweb("/rendered"), headers=PNG),
        "rendered frame": client.get(photo.dicomweb("/frames/1/rendered"), headers=JPEG),
    }
    if whole_study:
        series = photo.dicomweb().rsplit("/instances/", 1)[0]
        study = f"/dicomweb/studies/{photo.study}"
        answers["series"] = client.get(series, headers=DICOM)
        answers["study"] = client.get(study, headers=DICOM)
        answers["series rendered"] = client.get(series + "/rendered", headers=RENDERED_PARTS)
        answers["study rendered"] = client.get(study + "/rendered", headers=RENDERED_PARTS)
    return {name: answer.status_code for name, answer in answers.items()}


def test_a_sensitive_photo_is_sealed_until_the_glass_is_broken(
    browser: SignIn, store_photo: StorePhoto, runtime: Runtime
) -> None:
    plain, sensitive = store_photo(), store_photo(sensitive=True)
    doctor = browser("clinician")

    plain_thumb = doctor.get(plain.dicomweb("/thumbnail"), headers=JPEG)
    sealed_thumb = doctor.get(sensitive.dicomweb("/thumbnail"), headers=JPEG)
    refused = full_image_answers(doctor, sensitive)
    problem = doctor.get(sensitive.dicomweb("/rendered"), headers=JPEG)
    photo_page = doctor.get(f"{OBERG}/photos/{sensitive.sop}", params={"issuer": "PCDEMO"})

    assert plain_thumb.status_code == sealed_thumb.status_code == 200
    # Same photo, same size: the sealed thumbnail has lost nearly all its detail.
    assert detail(sealed_thumb.content) < detail(plain_thumb.content) / 4
    assert refused == dict.fromkeys(refused, 403)
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert "break the glass" in problem.json()["detail"]
    assert photo_page.status_code == 200
    assert "/rendered" not in photo_page.text
    assert "Give a reason to see it" in photo_page.text
    # The photo that is not sensitive opens as before (its study holds the sealed one).
    plain_answers = full_image_answers(doctor, plain, whole_study=False)
    assert plain_answers == dict.fromkeys(plain_answers, 200)

    form = doctor.get(GLASS)
    assert form.status_code == 200 and 'name="reason"' in form.text
    back = f"{OBERG}/photos/{sensitive.sop}?issuer=PCDEMO&show=true"
    granted = doctor.post(GLASS, data={"reason": REASON, "next": back}, follow_redirects=False)

    assert granted.status_code == 303
    assert granted.headers["location"] == back
    assert full_image_answers(doctor, sensitive) == dict.fromkeys(refused, 200)
    sharp = doctor.get(sensitive.dicomweb("/thumbnail"), headers=JPEG)
    assert sharp.content == plain_thumb.content  # same source photo
    assert "/rendered" in doctor.get(back).text
    with runtime.db.session() as session:
        event = session.scalars(
            select(AuditRecord).where(AuditRecord.action == audit.AuditAction.BREAK_GLASS)
        ).one()
    assert event.reason == REASON
    assert event.patient_mrn == "PC100001"
    assert event.username == "doctor"


def test_a_grant_is_for_one_user_and_does_not_last(
    browser: SignIn, store_photo: StorePhoto, runtime: Runtime
) -> None:
    sensitive = store_photo(sensitive=True)
    doctor, admin = browser("clinician"), browser("admin")
    assert doctor.post(GLASS, data={"reason": REASON}, follow_redirects=False).status_code == 303
    rendered = sensitive.dicomweb("/rendered")

    assert doctor.get(rendered, headers=JPEG).status_code == 200
    assert admin.get(rendered, headers=JPEG).status_code == 403
    with runtime.db.write() as session:
        session.execute(
            update(BreakGlassGrant).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert doctor.get(rendered, headers=JPEG).status_code == 403


def test_a_reason_too_short_opens_nothing(
    browser: SignIn, store_photo: StorePhoto, runtime: Runtime
) -> None:
    sensitive = store_photo(sensitive=True)
    doctor = browser("clinician")

    for reason in ("", "   ", "look", "x" * 501):
        answer = doctor.post(GLASS, data={"reason": reason}, follow_redirects=False)
        assert answer.status_code == 422, reason
        assert 'id="reason-error"' in answer.text

    assert doctor.get(sensitive.dicomweb("/rendered"), headers=JPEG).status_code == 403
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(BreakGlassGrant)) == 0
        assert not session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == audit.AuditAction.BREAK_GLASS)
        )


def test_a_grant_for_one_patient_opens_no_other(browser: SignIn, store_photo: StorePhoto) -> None:
    other = store_photo(sensitive=True, patient="/patients/PC100002")
    doctor = browser("clinician")
    assert doctor.post(GLASS, data={"reason": REASON}, follow_redirects=False).status_code == 303

    assert doctor.get(other.dicomweb("/rendered"), headers=JPEG).status_code == 403


def test_the_break_glass_step_never_sends_elsewhere(browser: SignIn) -> None:
    doctor = browser("clinician")
    answer = doctor.post(
        GLASS, data={"reason": REASON, "next": "//evil.example/x"}, follow_redirects=False
    )
    assert answer.headers["location"] == "/patients/PC100001?issuer=PCDEMO"


def test_photographers_see_no_photos_not_even_their_own(
    browser: SignIn, store_photo: StorePhoto
) -> None:
    own = store_photo()
    nurse = browser("photographer")

    answers = {
        "review": nurse.get(OBERG, params={"issuer": "PCDEMO"}),
        "photo page": nurse.get(f"{OBERG}/photos/{own.sop}", params={"issuer": "PCDEMO"}),
        "break glass": nurse.get(GLASS),
        "thumbnail": nurse.get(own.dicomweb("/thumbnail"), headers=JPEG),
        "rendered": nurse.get(own.dicomweb("/rendered"), headers=JPEG),
        "instance": nurse.get(own.dicomweb(), headers=DICOM),
        "search": nurse.get("/dicomweb/instances", headers={"Accept": "application/json"}),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 403)
