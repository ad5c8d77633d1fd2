"""The admin page /admin/audit: filters, paging, chain status, roles, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pointcare import audit
from pointcare.runtime import Runtime
from tests.integration.audit.support import events
from tests.integration.pages.conftest import SignIn

NURSE = audit.Actor(user_id=1, username="nurse", role="photographer", client_address="10.0.0.5")


def seed(runtime: Runtime) -> None:
    for mrn in ("PC100001", "PC100002", "PC100001"):
        audit.record_now(
            runtime.db,
            audit.AuditEvent(
                action=audit.AuditAction.PATIENT_OPEN,
                actor=NURSE,
                patient=audit.PatientRef(mrn=mrn, issuer="PCDEMO"),
                details={"page": "capture"},
            ),
        )


def test_admins_search_by_patient_user_action_and_time(browser: SignIn, runtime: Runtime) -> None:
    seed(runtime)
    admin = browser("admin")  # signing in is itself an event (login, by admin)
    everything = admin.get("/admin/audit")
    assert everything.status_code == 200
    assert everything.headers["cache-control"] == "no-store"
    assert "Chain verified" in everything.text
    by_patient = admin.get("/admin/audit", params={"patient": "PC100001"})
    assert "2 events, newest first" in by_patient.text
    assert "PC100002" not in by_patient.text.split("<table")[1]
    by_user = admin.get("/admin/audit", params={"username": "admin", "action": "login"})
    assert "1 event, newest first" in by_user.text
    today = admin.get("/admin/audit", params={"since": "2000-01-01", "until": "2999-12-31"})
    assert today.status_code == 200 and "<table" in today.text
    none = admin.get("/admin/audit", params={"until": "2000-01-01"})
    assert "No events match" in none.text
    searches = events(runtime, audit.AuditAction.AUDIT_SEARCHED)  # "audit log used"
    assert len(searches) == 5 and searches[1].patient_mrn == "PC100001"


def test_pages_go_newest_first(browser: SignIn, runtime: Runtime) -> None:
    for _ in range(21):
        seed(runtime)  # 63 events: two pages of 50
    admin = browser("admin")
    first = admin.get("/admin/audit", params={"action": "patient.open"})
    assert "Page 1 of 2" in first.text and "Older events" in first.text
    assert '<td data-label="#" class="mono">63</td>' in first.text
    second = admin.get("/admin/audit", params={"action": "patient.open", "page": "2"})
    assert "Page 2 of 2" in second.text and '<td data-label="#" class="mono">1</td>' in second.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "04/05/2026"}, "Type a date (2026-05-04)"),
        ({"until": "2026-13-45"}, "Type a date (2026-05-04)"),
        ({"since": "2026-05-04", "until": "2026-05-01"}, "must be after its start"),
        ({"action": "drop table"}, "Choose an action from the list"),
        ({"page": "-1"}, "whole number from 1"),
        ({"page": "abc"}, "whole number from 1"),
    ],
)
def test_bad_filters_answer_422_with_a_message(
    browser: SignIn, params: dict[str, str], message: str
) -> None:
    response = browser("admin").get("/admin/audit", params=params)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text or "page-error" in response.text


@pytest.mark.parametrize("role", ["photographer", "clinician"])
def test_only_admins_may_read_the_trail(browser: SignIn, role: str) -> None:
    assert browser(role).get("/admin/audit").status_code == 403


def test_the_page_shows_where_the_chain_breaks(
    browser: SignIn, runtime: Runtime, database_backend: str
) -> None:
    seed(runtime)
    with runtime.db.write() as session:
        if database_backend == "postgresql":
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("UPDATE audit_events SET outcome = 'refused' WHERE seq = 2"))
    page = browser("admin").get("/admin/audit")
    assert page.status_code == 200
    assert "tampered with or damaged" in page.text
    assert "Verified up to event 1" in page.text and "<strong>2</strong>" in page.text
