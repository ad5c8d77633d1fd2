"""The admin page of deliveries: parked and pending with their reasons, and retrying them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from pointcare.app import create_app
from pointcare.archive.protocol import Cause, InstanceResult, Outcome
from pointcare.db.models import Delivery
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.integration.conftest import Upload
from tests.integration.delivery.conftest import small_photo
from tests.integration.delivery.scripted import ScriptedArchive, forwarder_for, make_due

Bearer = Callable[[str], dict[str, str]]
PAGE = "/admin/deliveries"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, archive="dicomweb", dicomweb_url="http://127.0.0.1:9/dicom-web")


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)


@pytest.fixture
def queued(runtime: Runtime, upload: Upload) -> list[str]:
    """Three photos: the first two parked (with reasons), the third pending."""
    uids = []
    for number in range(3):
        response = upload(small_photo(number))
        assert response.status_code == 201, response.text
        uids.append(response.json()["sop_instance_uid"])
    with runtime.db.write() as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[:2]))
            .values(state="parked", attempts=10, last_error="HTTP 503 from the PACS")
        )
    return uids


def test_only_admins_see_the_deliveries(client: TestClient[Litestar], bearer: Bearer) -> None:
    assert client.get(PAGE, headers=bearer("clinician")).status_code == 403
    assert client.get(PAGE, headers=bearer("admin")).status_code == 200


def test_parked_and_pending_deliveries_are_listed_with_the_reason(
    client: TestClient[Litestar], bearer: Bearer, queued: list[str]
) -> None:
    page = client.get(PAGE, headers=bearer("admin"))
    assert page.status_code == 200
    text = page.text
    assert all(uid in text for uid in queued)
    assert text.count("HTTP 503 from the PACS") == 2
    assert len(re.findall(r'action="/admin/deliveries/\d+/retry"', text)) == 2  # one per parked
    assert 'action="/admin/deliveries/retry"' in text
    assert "PC100001" in text


def test_an_admin_retries_one_then_all_parked_deliveries(
    client: TestClient[Litestar], bearer: Bearer, runtime: Runtime, queued: list[str]
) -> None:
    admin = bearer("admin")
    with runtime.db.session() as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
    assert first is not None
    one = client.post(f"{PAGE}/{first.id}/retry", headers=admin, follow_redirects=False)
    assert (one.status_code, one.headers["location"]) == (303, f"{PAGE}?retried=1")
    assert _states(runtime) == ["pending", "parked", "pending"]
    notice = client.get(one.headers["location"], headers=admin).text
    assert "1 parked delivery put back in the queue" in notice

    rest = client.post(f"{PAGE}/retry", headers=admin, follow_redirects=False)
    assert rest.headers["location"] == f"{PAGE}?retried=1"
    assert _states(runtime) == ["pending"] * 3
    with runtime.db.session() as session:
        assert {d.attempts for d in session.scalars(select(Delivery))} == {0}
    again = client.post(f"{PAGE}/retry", headers=admin, follow_redirects=False)
    assert again.headers["location"] == f"{PAGE}?retried=0"


def test_a_clinician_cannot_retry(
    client: TestClient[Litestar], bearer: Bearer, runtime: Runtime, queued: list[str]
) -> None:
    answer = client.post(f"{PAGE}/retry", headers=bearer("clinician"), follow_redirects=False)
    assert answer.status_code == 403
    assert _states(runtime) == ["parked", "parked", "pending"]


def _states(runtime: Runtime) -> list[str]:
    with runtime.db.session() as session:
        return list(session.scalars(select(Delivery.state).order_by(Delivery.id)))


def test_each_delivery_shows_its_attempts_with_time_outcome_and_reason(
    client: TestClient[Litestar], bearer: Bearer, runtime: Runtime, upload: Upload
) -> None:
    uids = [upload(small_photo(n)).json()["sop_instance_uid"] for n in range(2)]
    archive = ScriptedArchive()
    archive.outcomes = {
        uids[0]: InstanceResult(Outcome.FAILED, "HTTP 200, the PACS refused it: A700"),
        uids[1]: InstanceResult(Outcome.UNCONFIRMED, "could not reach the PACS", Cause.UNREACHABLE),
    }
    forwarder = forwarder_for(runtime, archive)
    for _ in range(2):
        make_due(runtime)
        forwarder.run_once()
    text = client.get(PAGE, headers=bearer("admin")).text
    assert text.count("2 last attempts") == 2
    assert text.count("<strong>Refused</strong>") == 2
    assert text.count("<strong>Unreachable</strong>") == 2
    assert text.count(": HTTP 200, the PACS refused it: A700</li>") == 1  # once per run,
    assert text.count(": could not reach the PACS</li>") == 1
    assert text.count(", same reason</li>") == 2  # not again for the attempt after it
