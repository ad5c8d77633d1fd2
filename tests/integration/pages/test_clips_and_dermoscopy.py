"""Clips and dermoscopic images in the patient's record: listed, opened, compared (dermoscopy
only), exported, sealed when sensitive; a dermatoscope's photo is stored as a Dermoscopic
Photography object and otherwise treated like any photo."""

from __future__ import annotations

import io
import re
import zipfile

import pydicom
import pypdfium2 as pdfium
import pytest
from PIL import ImageStat
from sqlalchemy import select

from pointcare.db.models import Instance
from pointcare.dicom.dermoscopy import DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
from pointcare.dicom.video import VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE, stored_clip
from pointcare.runtime import Runtime
from tests.integration.api.test_photos import stored_path
from tests.integration.conftest import PostClip, Upload
from tests.integration.pages.conftest import OBERG, SignIn
from tests.support import clips as made
from tests.support.clips import ClipFactory, stream_hash
from tests.support.dicom_checks import DERMOSCOPY_WARNINGS, assert_valid_dicom
from tests.support.tools import corpus

ISSUER = "?issuer=PCDEMO"


@pytest.fixture
def record(upload: Upload, post_clip: PostClip, clips: ClipFactory) -> dict[str, str]:
    """Öberg's record: a photo, a dermoscopic image of the same site, a clip, a sensitive clip."""
    photo = corpus("photos", "gps", "DSCN0010.jpg")
    uids = {}
    for name, response in (
        ("photo", upload(photo, view="close-up", consent_teaching="true")),
        ("dermoscopy", upload(photo, view="dermoscopic", consent_teaching="true")),
        ("clip", post_clip(clips.make(made.PHONE_MOV), consent_teaching="true")),
        ("sealed", post_clip(clips.make(made.VP9_WEBM), sensitive="true")),
    ):
        assert response.status_code == 201, response.text
        uids[name] = response.json()["sop_instance_uid"]
    return uids


def _page(uid: str) -> str:
    return f"{OBERG}/photos/{uid}{ISSUER}"


def test_a_dermatoscope_s_photo_is_a_dermoscopic_photography_object(
    runtime: Runtime, record: dict[str, str]
) -> None:
    data = stored_path(runtime, record["dermoscopy"]).read_bytes()
    dataset = pydicom.dcmread(io.BytesIO(data))
    assert dataset.SOPClassUID == DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE
    assert dataset.Modality == "DMS"
    assert dataset.ManufacturerModelName == "Pointcare" and dataset.DeviceSerialNumber
    assert_valid_dicom(data, expected_warnings=DERMOSCOPY_WARNINGS)
    photo = pydicom.dcmread(stored_path(runtime, record["photo"]), stop_before_pixels=True)
    assert photo.Modality == "XC"


def test_the_review_page_marks_clips_and_offers_no_comparison_of_them(
    browser: SignIn, record: dict[str, str]
) -> None:
    page = browser("clinician").get(f"{OBERG}{ISSUER}")
    assert page.status_code == 200
    html = page.text.replace("&amp;", "&")
    assert html.count('<span class="clip-label">Video clip</span>') == 2
    for name in ("photo", "dermoscopy"):
        assert f"&photo={record[name]}" in html
    for name in ("clip", "sealed"):
        assert f"/photos/{record[name]}" in html
        assert f"&photo={record[name]}" not in html


def test_a_clip_plays_on_its_page_and_a_sealed_one_shows_only_its_blurred_poster(
    browser: SignIn, record: dict[str, str]
) -> None:
    clinician = browser("clinician")
    page = clinician.get(_page(record["clip"]))
    assert page.status_code == 200, page.text[:300]
    video = re.search(r'<video class="photo-clip"[^>]*>', page.text)
    assert video is not None
    assert f"/instances/{record['clip']}/rendered" in video.group(0)
    assert f"/instances/{record['clip']}/thumbnail" in video.group(0)
    sealed = clinician.get(_page(record["sealed"]))
    assert sealed.status_code == 200
    assert "<video" not in sealed.text
    assert "Give a reason to see it" in sealed.text
    rendered = re.search(
        r'"(/dicomweb/[^"]+/instances/' + record["sealed"] + ')/thumbnail"', sealed.text
    )
    assert rendered is not None
    played = clinician.get(rendered.group(1) + "/rendered", headers={"Accept": "*/*"})
    assert played.status_code == 403


def test_dermoscopy_is_compared_like_any_photo_and_a_clip_is_not(
    browser: SignIn, record: dict[str, str]
) -> None:
    clinician = browser("clinician")
    both = clinician.get(
        f"{OBERG}/compare{ISSUER}&photo={record['photo']}&photo={record['dermoscopy']}"
    )
    assert both.status_code == 200
    assert both.text.count('class="compare-pane') >= 2 or record["dermoscopy"] in both.text
    refused = clinician.get(
        f"{OBERG}/compare{ISSUER}&photo={record['photo']}&photo={record['clip']}"
    )
    assert refused.status_code == 422


def test_exports_carry_clips_as_they_can(
    browser: SignIn, runtime: Runtime, record: dict[str, str], request: pytest.FixtureRequest
) -> None:
    clinician = browser("clinician")
    uids = [record["photo"], record["dermoscopy"], record["clip"]]
    report = clinician.post(f"{OBERG}/export/report{ISSUER}", data={"photos": uids})
    assert report.status_code == 200, report.text[:300]
    pdf = pdfium.PdfDocument(report.content)
    request.addfinalizer(pdf.close)
    assert len(pdf) == 1 + len(uids)
    clip_page = pdf[3]
    text = " ".join(clip_page.get_textpage().get_text_range().split())
    assert "Video clip 3" in text and "One frame shown" in text
    bitmap = clip_page.render(scale=0.5).to_pil().convert("L")
    top = bitmap.crop((0, bitmap.height // 8, bitmap.width, bitmap.height // 2))
    assert ImageStat.Stat(top).stddev[0] > 20  # the poster is drawn

    dicom = clinician.post(f"{OBERG}/export/dicom{ISSUER}", data={"photos": uids})
    assert dicom.status_code == 200
    with zipfile.ZipFile(io.BytesIO(dicom.content)) as archive:
        classes = {
            pydicom.dcmread(io.BytesIO(archive.read(name)), stop_before_pixels=True).SOPClassUID
            for name in archive.namelist()
            if not name.endswith("DICOMDIR") and not name.endswith("/")
        }
    assert VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE in classes
    assert DERMOSCOPIC_PHOTOGRAPHY_IMAGE_STORAGE in classes

    teaching = clinician.post(f"{OBERG}/export/teaching{ISSUER}", data={"photos": uids})
    assert teaching.status_code == 200
    with zipfile.ZipFile(io.BytesIO(teaching.content)) as archive:
        readme = next(archive.read(n) for n in archive.namelist() if n.endswith("README.txt"))
        images = [n for n in archive.namelist() if n.endswith(".jpg")]
    assert b"video clip: the teaching set holds still images only" in readme
    assert len(images) == 2  # the photo and the dermoscopic image


def test_a_clip_filed_under_the_wrong_patient_is_moved_with_its_stream_unchanged(
    browser: SignIn, runtime: Runtime, record: dict[str, str]
) -> None:
    clinician = browser("clinician")
    uid = record["clip"]
    page = clinician.get(f"{OBERG}/photos/{uid}/correct{ISSUER}")
    assert page.status_code == 200
    assert "compare?" not in clinician.get(_page(uid)).text
    token = page.text.split('name="token" value="')[1].split('"')[0]
    form = {
        "token": token,
        "kind": "patient",
        "reason": "Filmed Mr O'Brien's gait under Mrs Öberg's record",
        "target_mrn": "PC100003",
        "target_confirmed": "true",
        "target_issuer": "PCDEMO",
    }
    done = clinician.post(f"{OBERG}/photos/{uid}/correct{ISSUER}", data=form)
    assert done.status_code == 200, done.text[:300]
    with runtime.db.session() as session:
        original = session.scalars(select(Instance).where(Instance.sop_instance_uid == uid)).one()
        copy = session.scalars(select(Instance).where(Instance.replaces_id == original.id)).one()
    assert original.rejected_at is not None
    moved = pydicom.dcmread(runtime.files.resolve(copy.storage_path))
    assert moved.PatientID == "PC100003"
    assert moved.SOPClassUID == VIDEO_PHOTOGRAPHIC_IMAGE_STORAGE
    # The same H.264 stream, packet for packet, in a new MP4.
    assert stream_hash(stored_clip(runtime.files.resolve(copy.storage_path))) == stream_hash(
        stored_clip(runtime.files.resolve(original.storage_path))
    )
