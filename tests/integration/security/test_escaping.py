"""Hostile names (markup, quotes, letters beyond ASCII) are shown as text on every page.

Every GET page of the route table is fetched about a patient named
``<script>alert(1)</script>^O'Brien "Q" Zoë``, by a user whose display name is markup too.
"""

from __future__ import annotations

import re
from datetime import date

from litestar import Litestar
from litestar.testing import TestClient

from pointcare.auth.accounts import add_user
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.identity.directory import upsert_patient
from pointcare.runtime import Runtime
from tests.integration.pages.conftest import HTML, Capture, SignIn
from tests.integration.security.conftest import stored_photo
from tests.integration.security.test_route_access import EXAMPLES, endpoints
from tests.support import csrf

FAMILY = "<script>alert(1)</script>"
GIVEN = 'O\'Brien "Q" Zoë'
USER = '<img src=x onerror=alert(2)> "Dr" Ødegård'
MRN = "XSS0001"


ESCAPED_USER = "&lt;img src=x onerror=alert(2)&gt; &#34;Dr&#34; Ødegård"
ESCAPED_GIVEN = "O&#39;Brien &#34;Q&#34; Zoë"


def test_hostile_names_are_escaped_on_every_page(
    app: Litestar, runtime: Runtime, browser: SignIn, capture: Capture
) -> None:
    with runtime.db.write() as session:
        upsert_patient(
            session,
            PatientIdentity(
                mrn=MRN,
                issuer="PCDEMO",
                family_name=FAMILY,
                given_name=GIVEN,
                birth_date=date(1970, 1, 1),
                sex=Sex.FEMALE,
            ),
        )
        add_user(
            session, username="odegard", role="admin", password="odegard-pass-1", display_name=USER
        )
    photo = stored_photo(runtime, capture(browser("photographer"), patient=f"/patients/{MRN}").text)
    client = TestClient(app, raise_server_exceptions=False)
    client.post(
        "/login",
        data={
            "username": "odegard",
            "password": "odegard-pass-1",
            "csrf_token": csrf.fetch_token(client),
        },
        headers=HTML,
    )
    csrf.arm(client, "/")
    values = {
        **EXAMPLES,
        "mrn": MRN,
        "sop": photo.sop,
        "study": photo.study,
        "series": photo.series,
        "instance": photo.sop,
    }

    pages, showing_patient, problems = 0, 0, []
    for endpoint in endpoints(app):
        if endpoint.method != "GET" or endpoint.template.startswith(
            ("/dicomweb", "/schema", "/api")
        ):
            continue
        path = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], endpoint.template)
        answer = client.get(path, params={"issuer": "PCDEMO", "mrn": MRN}, headers=HTML)
        if answer.status_code >= 500:
            problems.append(f"{path}: {answer.status_code}")
        if "html" not in answer.headers.get("content-type", ""):
            continue
        pages += 1
        html = answer.text
        if any(raw in html.lower() for raw in ("<script>alert", "<img src=x")):
            problems.append(f"{path}: a name is rendered as markup")
        if "<header" in html and ESCAPED_USER not in html:
            problems.append(f"{path}: the user's name is not shown as written")
        if "&lt;SCRIPT&gt;" in html or "&lt;script&gt;" in html:
            showing_patient += 1
            if ESCAPED_GIVEN not in html:
                problems.append(f"{path}: the given name is not shown as written")

    assert not problems, "\n".join(problems)
    assert pages >= 10
    assert showing_patient >= 4  # search, capture, review, photo, consent, export, ...
