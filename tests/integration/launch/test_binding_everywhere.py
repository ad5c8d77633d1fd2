"""The binding holds on every way in: a session opened from the EHR for one patient cannot reach
another patient it did not search for, however the request names them (a path, a query, a
form field, a correction's target, a DICOMweb UID), and what it may search for is narrow.

The path entry points come from the application's own route table, so a new route that names
a patient is covered the day it is added. Each entry point is also tried with the session's own
patient: the same request then gets through, so a refusal is the binding's doing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import func, select

from pointcare.db.models import Instance
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.support import csrf
from tests.support.consent import CLINICAL_ONLY
from tests.support.launch import claims, sign
from tests.support.tools import corpus
from tests.unit.dicom.test_pdf import a_pdf

Client = TestClient[Litestar]
MINE, THEIRS = "PC100001", "PC100002"
"""The session's patient, and one it never searched for."""
REFUSAL = "opened from the EHR"
HTML = {"Accept": "text/html"}
PHOTO = corpus("photos", "gps", "DSCN0010.jpg")


@dataclass(frozen=True)
class Stored:
    study: str
    series: str
    sop: str


@dataclass
class Bound:
    client: Client
    app: Litestar
    runtime: Runtime
    photos: dict[str, Stored]
    """A stored photo of each patient."""

    def instances(self) -> int:
        with self.runtime.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Instance)) or 0)


@pytest.fixture
def bound(client: Client, app: Litestar, runtime: Runtime, upload: Upload) -> Bound:
    photos = {}
    for mrn in (MINE, THEIRS):
        answer = upload(PHOTO, patient_id=mrn).json()
        photos[mrn] = Stored(
            answer["study_instance_uid"], answer["series_instance_uid"], answer["sop_instance_uid"]
        )
    client.cookies.clear()
    client.headers.clear()
    launched = client.get(
        "/launch", params={"token": sign(claims(role="physician"))}, follow_redirects=False
    )
    assert launched.status_code == 303
    csrf.arm(client, "/")
    return Bound(client, app, runtime, photos)


def routes(app: Litestar, parameter: str) -> Iterator[tuple[str, str]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute) and "{" + parameter + ":" in route.path:
            for handler in route.route_handlers:
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    yield method, route.path


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: values.get(m.group(1), "1"), template)


def refused(answer: httpx.Response) -> bool:
    return answer.status_code == 403 and REFUSAL in answer.text


def by_path(parameter: str) -> Callable[[Bound, str], list[str]]:
    def check(bound: Bound, mrn: str) -> list[str]:
        """Every route naming the patient in its path: the failures, as text."""
        photo = bound.photos[mrn]
        values = {
            "mrn": mrn,
            "study": photo.study,
            "series": photo.series,
            "instance": photo.sop,
            "sop": photo.sop,
            "session_id": str(uuid.uuid4()),
        }
        wrong = []
        for method, template in routes(bound.app, parameter):
            path = fill(template, values)
            answer = bound.client.request(method, path, headers=HTML, follow_redirects=False)
            if refused(answer) != (mrn == THEIRS):
                wrong.append(f"{method} {template} for {mrn}: {answer.status_code}")
        return wrong

    return check


def one(
    send: Callable[[Bound, str], httpx.Response], *, stores: bool = False
) -> Callable[[Bound, str], list[str]]:
    def check(bound: Bound, mrn: str) -> list[str]:
        before = bound.instances()
        answer = send(bound, mrn)
        if mrn == THEIRS:
            wrong = [] if refused(answer) else [f"{answer.status_code}: {answer.text[:200]}"]
            if bound.instances() != before:
                wrong.append("something was stored for the other patient")
            return wrong
        ok = not refused(answer) and (not stores or bound.instances() == before + 1)
        return [] if ok else [f"own patient: {answer.status_code}: {answer.text[:200]}"]

    return check


def photo_form(bound: Bound, mrn: str) -> httpx.Response:
    return bound.client.post(
        "/api/v1/photos",
        data={
            "patient_id": mrn,
            "body_site": "14975008",
            "laterality": "L",
            "allow_duplicate": "true",
            **CLINICAL_ONLY,
        },
        files={"file": ("wound.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )


def inspect_form(bound: Bound, mrn: str) -> httpx.Response:
    return bound.client.post(
        "/api/v1/photos/inspect",
        data={"patient_id": mrn},
        files={"file": ("wound.jpg", PHOTO.read_bytes(), "image/jpeg")},
    )


def document_form(bound: Bound, mrn: str) -> httpx.Response:
    return bound.client.post(
        "/api/v1/documents",
        data={"patient_id": mrn, "title": "Referral", "capture_id": str(uuid.uuid4())},
        files={"file": ("referral.pdf", a_pdf(), "application/pdf")},
    )


def bedside_form(bound: Bound, mrn: str) -> httpx.Response:
    return bound.client.post(
        "/bedside/sessions",
        data={"mrn": mrn, "issuer": "PCDEMO", "confirmation": "x"},
        headers=HTML,
        follow_redirects=False,
    )


def confirmation_query(bound: Bound, mrn: str) -> httpx.Response:
    return bound.client.get("/bedside/confirm", params={"mrn": mrn}, headers=HTML)


def correction_target(bound: Bound, mrn: str) -> httpx.Response:
    if mrn == MINE:  # the own patient is no target for a move: the second patient's card is
        csrf.arm(bound.client, "/")
        assert bound.client.get("/", params={"mrn": THEIRS}, headers=HTML).status_code == 200
        mrn = THEIRS  # openable now, after the search
    return bound.client.post(
        f"/patients/{MINE}/photos/{bound.photos[MINE].sop}/correct",
        data={
            "kind": "patient",
            "reason": "photographed under the wrong wristband",
            "token": str(uuid.uuid4()),
            "target_mrn": mrn,
            "target_confirmed": "true",
        },
        headers=HTML,
    )


def qido_query(bound: Bound, mrn: str) -> httpx.Response:
    answer = bound.client.get(
        "/dicomweb/studies", params={"PatientID": mrn}, headers={"Accept": "application/dicom+json"}
    )
    found = answer.status_code == 200 and bound.photos[mrn].study in answer.text
    # A search names no single patient to refuse: it finds only what the session may open.
    return httpx.Response(200 if found else 403, text="" if found else REFUSAL)


ENTRY_POINTS: dict[str, Callable[[Bound, str], list[str]]] = {
    "path-mrn": by_path("mrn"),
    "path-study": by_path("study"),
    "query-mrn": one(confirmation_query),
    "query-dicomweb-patient-id": one(qido_query),
    "form-photo-patient-id": one(photo_form, stores=True),
    "form-inspect-patient-id": one(inspect_form),
    "form-document-patient-id": one(document_form),
    "form-bedside-session-mrn": one(bedside_form),
    "form-correction-target": one(correction_target),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_bound_session_reaches_no_patient_it_did_not_search_for(bound: Bound, entry: str) -> None:
    check = ENTRY_POINTS[entry]
    wrong = check(bound, THEIRS) + check(bound, MINE)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("search", "opens"),
    [
        ({"name": "a"}, False),
        ({"name": "andersson"}, False),  # a name without the birth date names many patients
        ({"birth_date": "1962-05-09"}, False),
        ({"name": "a", "birth_date": "1962-05-09"}, False),
        ({"name": "an", "birth_date": "1962-05-09"}, True),
        ({"mrn": "PC100004"}, True),
    ],
)
def test_a_bound_session_opens_others_only_by_a_search_that_names_one_patient(
    bound: Bound, search: dict[str, str], opens: bool
) -> None:
    """Eva Andersson, born 1962-05-09 (PC100004), found or not by each kind of search."""
    searched = bound.client.get("/", params=search, headers=HTML)
    assert searched.status_code == (200 if opens else 422), searched.text[:300]
    if not opens:
        assert "full MRN, or their name (at least two letters) and birth date" in searched.text
        assert "PC100004" not in searched.text
    review = bound.client.get("/patients/PC100004?issuer=PCDEMO", headers=HTML)
    assert (review.status_code == 200) == opens
    api_search = {"identifier": search["mrn"]} if "mrn" in search else search
    api = bound.client.get("/api/v1/patients", params=api_search)
    assert api.status_code == (200 if opens else 422)


def test_twenty_six_one_letter_searches_open_nobody(bound: Bound) -> None:
    for letter in "abcdefghijklmnopqrstuvwxyz":
        bound.client.get("/", params={"name": letter}, headers=HTML)
    opened = [
        mrn
        for mrn in ("PC100002", "PC100003", "PC100004", "PC100005")
        if bound.client.get(f"/patients/{mrn}", headers=HTML).status_code == 200
    ]
    assert opened == []


def test_the_binding_test_covers_routes_that_name_a_patient(app: Litestar) -> None:
    assert len(list(routes(app, "mrn"))) > 15
    assert len(list(routes(app, "study"))) > 10
