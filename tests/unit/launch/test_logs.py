"""Launch tokens never reach a log line, however the query spells the parameter."""

from __future__ import annotations

import pytest

from pointcare.launch.logs import redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEyMzQifQ.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    "query",
    [
        f"token={JWT}",
        f"%74oken={JWT}",
        f"tok%65n={JWT}",
        f"%2574oken={JWT}",
        f"TOKEN={JWT}",
        f"view=review&token={JWT}&x=1",
        f"next=%2Flaunch%3Ftoken%3D{JWT}",
    ],
)
def test_the_token_is_redacted_on_the_decoded_query(query: str) -> None:
    line = f'127.0.0.1:5000 - "GET /launch?{query} HTTP/1.1" 303'
    assert JWT not in redact(line)
    assert "[redacted]" in redact(line)


def test_other_parameters_are_kept() -> None:
    line = '"GET /?mrn=PC100001&name=oberg HTTP/1.1" 200'
    assert redact(line) == line
