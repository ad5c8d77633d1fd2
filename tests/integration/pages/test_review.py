"""Review: a patient's photos by date (clinicians and admins only) and one photo with its record."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from pointcare.db.models import ConsentRecord, Instance, Patient, Series, Study
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.pages.conftest import OBERG, Capture, SignIn, path_of

REVIEW = f"{OBERG}?issuer=PCDEMO"


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements run while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)


def test_a_photographer_may_not_review(browser: SignIn) -> None:
    page = browser("photographer").get(REVIEW)

    assert page.status_code == 403
    assert "Reviewing photos is for clinicians" in page.text
    assert "ÖBERG" not in page.text


def test_an_admin_may_review(browser: SignIn) -> None:
    assert browser("admin").get(REVIEW).status_code == 200


def test_the_review_page_lists_the_photo_with_site_view_and_consent(
    browser: SignIn, capture: Capture
) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    stored = capture(nurse, consent_publication="true", description="Healing well")
    sop = re.search(r"SOP Instance UID <span class=\"mono\">([0-9.]+)<", stored.text)
    assert sop

    page = doctor.get(REVIEW)

    assert page.status_code == 200
    assert 'Photos <span class="count">(1)</span>' in page.text
    assert "Monday 4 May 2026" in page.text
    assert '<span class="photo-where">Left forearm</span>' in page.text
    assert "Close-up · 10:15" in page.text
    assert "Healing well" in page.text
    assert "Teaching</li>" in page.text
    assert "Publication</li>" in page.text
    thumbnail = re.search(r'<img src="(/dicomweb/[^"]+)" width="(\d+)" height="(\d+)"', page.text)
    assert thumbnail
    url, width, height = thumbnail.group(1), int(thumbnail.group(2)), int(thumbnail.group(3))
    assert re.fullmatch(
        rf"/dicomweb/studies/[0-9.]+/series/[0-9.]+/instances/{re.escape(sop.group(1))}/thumbnail",
        url,
    )
    assert max(width, height) == 320
    assert 'loading="lazy"' in page.text


def test_photos_are_grouped_by_local_date_newest_first(browser: SignIn, capture: Capture) -> None:
    nurse = browser("photographer")
    capture(nurse, captured_at="2026-05-03T23:30:00-05:00", body_site="54735007", laterality="U")
    capture(nurse, captured_at="2026-05-04T01:00:00+02:00", consent_teaching=None)

    whole = browser("clinician").get(REVIEW).text
    page = whole[whole.index('class="day"') :]  # the timeline, after the filter form

    # 23:30 on 3 May in UTC-5 is 4 May in UTC, but the clinic saw 3 May.
    newer, older = page.index("Monday 4 May 2026"), page.index("Sunday 3 May 2026")
    assert newer < older
    assert page.index("Left forearm") < page.index(">Sacrum<")
    assert "No teaching</li>" in page
    # Each day says under which encounter (visit) its photos were filed.
    assert page.count("· encounter V24-000101</span>") == 2


def test_sensitive_photos_are_blurred_and_labelled(browser: SignIn, capture: Capture) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    capture(nurse, body_site="38864007", laterality=None)  # perineum: intimate, always sensitive

    page = doctor.get(REVIEW).text
    link = re.search(r'class="photo-link" href="([^"]+)"', page)
    assert link
    photo_href = path_of(link.group(1))
    photo = doctor.get(photo_href).text
    shown = doctor.get(photo_href + "&show=true").text

    assert 'class="photo-card is-sensitive"' in page
    assert "Sensitive</span>" in page
    assert 'class="photo-figure is-sensitive"' in photo
    # Sealed until this user gives a reason (tests/integration/security/test_sensitive.py).
    assert "Give a reason to see it" in photo
    assert "/rendered" not in photo and "/rendered" not in shown


def test_the_photo_page_shows_the_image_and_its_record(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    capture(browser("photographer"), consent_method="written", description="Day 3")
    doctor = browser("clinician")
    with runtime.db.session() as session:
        instance = session.scalars(select(Instance)).one()
        study_uid = instance.study.study_instance_uid
        series_uid = instance.series.series_instance_uid
        sop_uid = instance.sop_instance_uid
        operator = instance.operator.display_name

    page = doctor.get(f"{OBERG}/photos/{sop_uid}?issuer=PCDEMO")

    assert page.status_code == 200
    rendered = f"/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}/rendered"
    # Screen-sized first, full resolution when zoomed in.
    assert f'<img src="{rendered}?viewport=2000,2000" data-full-src="{rendered}"' in page.text
    assert '<h1 id="record-title">Left forearm</h1>' in page.text
    assert "04 May 2026, 10:15" in page.text
    assert "UTC+02:00" in page.text
    assert f"<dd>{operator}</dd>" in page.text
    assert f"At capture: written, recorded by {operator}." in page.text
    assert "SNOMED CT 14975008" in page.text
    assert "Day 3" in page.text
    for uid in (study_uid, series_uid, sop_uid):
        assert uid in page.text


def test_newer_and_older_photos_are_linked_for_the_keyboard(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    nurse = browser("photographer")
    for hour in (9, 10, 11):
        capture(nurse, captured_at=f"2026-05-04T{hour:02d}:00:00+02:00")
    with runtime.db.session() as session:
        middle = session.scalars(select(Instance).order_by(Instance.captured_at)).all()[1]
        sop = middle.sop_instance_uid

    page = browser("clinician").get(f"{OBERG}/photos/{sop}?issuer=PCDEMO").text

    assert 'rel="prev" data-shortcut="ArrowLeft"' in page
    assert 'rel="next" data-shortcut="ArrowRight"' in page


def test_a_photo_of_another_patient_is_not_found_here(
    browser: SignIn, capture: Capture, runtime: Runtime
) -> None:
    capture(browser("photographer"))
    with runtime.db.session() as session:
        sop = session.scalars(select(Instance.sop_instance_uid)).one()

    page = browser("clinician").get(f"/patients/PC100003/photos/{sop}?issuer=PCDEMO")

    assert page.status_code == 404
    assert "not in this patient" in page.text


def test_the_photo_list_is_one_query(browser: SignIn, capture: Capture, runtime: Runtime) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    for _ in range(3):
        capture(nurse)

    with statements(runtime) as seen:
        page = doctor.get(REVIEW)

    assert page.text.count('class="photo-card') == 3
    # One query for the listed photos (no query per photo); the other counts them for the title.
    # (The filter form asks which sites and photographers there are: not photo rows; the
    # documents are listed by a query of their own.)
    photo_queries = [
        sql
        for sql in seen
        if re.search(r"\bFROM instances\b", sql)
        and "count(" not in sql
        and "DISTINCT" not in sql
        and "FROM users" not in sql
        and "instances.kind = " not in sql
    ]
    assert len(photo_queries) == 1
    assert "JOIN consent_records" in photo_queries[0]


def test_a_thousand_photos_are_listed_with_lazy_thumbnails(
    browser: SignIn, runtime: Runtime, accounts: dict[str, Account]
) -> None:
    # How fast this page is with 1,000 photos is measured by the benchmarks, not here.
    doctor = browser("clinician")
    bulk_photos(runtime, accounts["photographer"].user_id, count=1000)

    page = doctor.get(REVIEW)

    # The first screen comes with the newest page of photos and the count of all of them;
    # older pages come as the clinician scrolls (htmx), each once, until none is left.
    assert page.status_code == 200
    assert 'Photos <span class="count">(1000)</span>' in page.text
    cards = re.findall(r'class="photo-link" href="([^"]+)"', page.text)
    assert len(cards) == 120
    assert page.text.count('loading="lazy"') == 120
    pages = 1
    older = re.search(r'hx-get="([^"]+)" hx-trigger="revealed"', page.text)
    while older:
        more = doctor.get(path_of(older.group(1)), headers={"HX-Request": "true"})
        assert more.status_code == 200 and "<html" not in more.text
        cards += re.findall(r'class="photo-link" href="([^"]+)"', more.text)
        older = re.search(r'hx-get="([^"]+)" hx-trigger="revealed"', more.text)
        pages += 1
    assert pages == 9
    assert len(cards) == len(set(cards)) == 1000


def bulk_photos(runtime: Runtime, operator_id: int, *, count: int) -> None:
    """Index rows for ``count`` photos of Öberg (no files: the page reads only the index)."""
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    with runtime.db.write() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == "PC100001")).one()
        study = Study(
            study_instance_uid="2.25.1",
            study_key="bulk",
            patient_id=patient.id,
            study_id="BULK",
            study_datetime=start,
            description="Clinical photography",
        )
        session.add(study)
        session.flush()
        series = Series(
            series_instance_uid="2.25.2", series_key="bulk", study_id=study.id, series_number=1
        )
        consent = ConsentRecord(
            patient_id=patient.id,
            clinical_record=True,
            teaching=True,
            publication=False,
            method="verbal",
            session_key="bulk",
            recorded_by_id=operator_id,
        )
        session.add_all([series, consent])
        session.flush()
        session.add_all(
            Instance(
                sop_instance_uid=f"2.25.3{n}",
                sop_class_uid="1.2.840.10008.5.1.4.1.1.77.1.4",
                capture_id=str(uuid.uuid4()),
                patient_id=patient.id,
                study_id=study.id,
                series_id=series.id,
                instance_number=n + 1,
                body_site_code="14975008",
                laterality="R",
                view="overview",
                consent_id=consent.id,
                captured_at=start + timedelta(hours=7 * n),
                captured_tz_offset_minutes=60,
                operator_id=operator_id,
                storage_path=f"bulk/{n}.dcm",
                thumbnail_path=f"bulk/{n}.jpg",
                size_bytes=1,
                sha256="0" * 64,
                rows=3000,
                columns=4000,
                transfer_syntax_uid="1.2.840.10008.1.2.4.50",
                source_format="jpeg",
                reencoded=False,
            )
            for n in range(count)
        )


def test_a_broken_link_to_older_photos_is_refused_readably(browser: SignIn) -> None:
    doctor = browser("clinician")
    for before in ("garbage", "2026-01-01T10:00:00~x", "2026-01-01T10:00:00~5"):
        page = doctor.get(f"{REVIEW}&before={before}")
        assert page.status_code == 422, before
        assert "older photos is not valid" in page.text


def test_the_timeline_filters_by_site_side_view_consent_and_photographer(
    browser: SignIn, capture: Capture
) -> None:
    nurse, doctor = browser("photographer"), browser("clinician")
    capture(nurse, body_site="14975008", laterality="L", view="close-up")
    capture(nurse, body_site="14975008", laterality="R", view="overview", consent_teaching=None)
    capture(doctor, body_site="40983000", laterality="L", view="close-up")

    def cards(query: str) -> int:
        page = doctor.get(f"{REVIEW}{query}")
        assert page.status_code == 200, page.text
        return page.text.count('class="photo-card')

    assert cards("") == 3
    assert cards("&site=14975008") == 2
    assert cards("&site=14975008&laterality=R") == 1
    assert cards("&view=close-up") == 2
    assert cards("&consent=no-teaching") == 1
    assert cards("&consent=teaching") == 2
    page = doctor.get(REVIEW).text
    doctor_id = re.search(r'<option value="(\d+)">Doctor<', page)
    assert doctor_id, "the photographers are offered by name"
    assert cards(f"&operator={doctor_id.group(1)}") == 1
    assert (
        "No photos match these filters." in doctor.get(f"{REVIEW}&site=40983000&laterality=R").text
    )


def test_unknown_filter_values_are_refused_readably(browser: SignIn) -> None:
    doctor = browser("clinician")
    for query, message in [
        ("&site=999", "Choose a body site from the list."),
        ("&laterality=X", "Choose a side from the list."),
        ("&view=x-ray", "Choose a view from the list."),
        ("&consent=maybe", "Choose a consent from the list."),
        ("&operator=me", "Choose who took the photos from the list."),
    ]:
        page = doctor.get(f"{REVIEW}{query}")
        assert page.status_code == 422, query
        assert message in page.text
