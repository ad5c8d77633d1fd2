"""GET /api/v1/patients and the catalogue endpoints."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

Headers = Callable[[str], dict[str, str]]


def test_find_by_mrn(client: TestClient[Litestar], bearer: Headers, demo_patients: int) -> None:
    found = client.get(
        "/api/v1/patients", params={"identifier": "PC100001"}, headers=bearer("photographer")
    )
    assert found.status_code == 200
    (patient,) = found.json()
    assert patient["mrn"] == "PC100001"
    assert {"family_name", "given_name", "birth_date", "sex", "visit_number", "issuer"} <= set(
        patient
    )


def test_unknown_mrn_is_an_empty_list(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    found = client.get(
        "/api/v1/patients", params={"identifier": "NOPE"}, headers=bearer("photographer")
    )
    assert found.status_code == 200
    assert found.json() == []


def test_search_by_name_without_accents(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    found = client.get("/api/v1/patients", params={"name": "oberg"}, headers=bearer("clinician"))
    assert found.status_code == 200
    assert any(p["family_name"] == "Öberg" for p in found.json())


def test_search_needs_a_criterion(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    response = client.get("/api/v1/patients", headers=bearer("clinician"))
    assert response.status_code == 422
    assert response.json()["detail"]


def test_bad_birth_date(client: TestClient[Litestar], bearer: Headers, demo_patients: int) -> None:
    response = client.get(
        "/api/v1/patients", params={"birth_date": "31/03/1950"}, headers=bearer("clinician")
    )
    assert response.status_code == 422
    assert "birth_date" in response.json()["errors"]


def test_body_sites_catalogue(client: TestClient[Litestar], bearer: Headers) -> None:
    sites = client.get("/api/v1/body-sites", headers=bearer("photographer")).json()
    forearm = next(site for site in sites if site["code"] == "14975008")
    assert forearm == {
        "code": "14975008",
        "scheme": "SCT",
        "meaning": "Forearm",
        "region": "Upper limb",
        "paired": True,
        "intimate": False,
        "aspects": [
            {"value": "anterior", "code": "255549009", "label": "front"},
            {"value": "posterior", "code": "255551008", "label": "back"},
            {"value": "medial", "code": "255561001", "label": "inner side"},
            {"value": "lateral", "code": "49370004", "label": "outer side"},
        ],
        "parent": None,
    }
    finger = next(site for site in sites if site["meaning"] == "Index finger")
    assert finger["parent"] == "85562004"  # the hand the body map zooms into
    assert [(a["value"], a["label"]) for a in finger["aspects"]] == [
        ("anterior", "palm side"),
        ("posterior", "back"),
    ]
    schema = client.get("/schema/openapi.json", headers=bearer("admin")).json()
    form = schema["paths"]["/api/v1/photos"]["post"]["requestBody"]["content"]
    name = form["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "aspect" in schema["components"]["schemas"][name]["properties"]


def test_views_catalogue(client: TestClient[Litestar], bearer: Headers) -> None:
    views = client.get("/api/v1/views", headers=bearer("photographer")).json()
    assert [v["value"] for v in views] == ["overview", "close-up", "dermoscopic"]
