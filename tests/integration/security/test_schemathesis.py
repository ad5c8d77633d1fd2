"""Fuzzing the API from its own OpenAPI document: no 5xx, and every answer as documented.

A bounded number of generated examples per operation (``MAX_EXAMPLES``) keeps this fast enough
for CI; the calls go straight to the ASGI app, signed in with an admin's bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis import checks

MAX_EXAMPLES = 15
NOT_CHECKED = [checks.positive_data_acceptance]
"""A schema-valid form may still be refused for what no schema can say (a file that is not a
photo, consent rules, an unknown patient). Everything else is checked: no 5xx, answers as
documented (status, media type, body schema, headers), bad input refused, auth required."""


@pytest.fixture
def admin_bearer(bearer: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return bearer("admin")


@pytest.fixture
def api_schema(app: Litestar, admin_bearer: dict[str, str], demo_patients: int) -> Any:
    document = TestClient(app).get("/schema/openapi.json", headers=admin_bearer).json()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = app  # calls go to the ASGI app, without its lifespan (the runtime stays open)
    return loaded


def test_the_api_holds_to_its_openapi_document(
    api_schema: Any, admin_bearer: dict[str, str]
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=admin_bearer, excluded_checks=NOT_CHECKED)

        try:
            fuzz()
        except Exception as exc:
            failures.append(f"{operation.label}:\n{exc}")
    assert len(operations) > 10
    assert not failures, "\n\n".join(failures)
