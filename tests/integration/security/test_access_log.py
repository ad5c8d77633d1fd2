"""The access log of a real server never shows a launch token, however its name is encoded."""

from __future__ import annotations

import http.client
import time

import pytest

from tests.support.server import LiveServer, live_env

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEyMzQifQ.c2lnbmF0dXJlLWJ5dGVz"

pytestmark = pytest.mark.slow


def test_an_encoded_token_parameter_is_redacted_in_the_access_log() -> None:
    with LiveServer(env=live_env()) as server:
        for query in (f"%74oken={JWT}", f"tok%65n={JWT}"):
            connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
            connection.request("GET", f"/launch?{query}")
            assert connection.getresponse().status == 403  # read as the token: refused
            connection.close()
        time.sleep(0.3)  # the access log line is written after the answer
        logs = server.stdout + server.stderr
    assert "GET /launch?%74oken=[redacted]" in logs
    assert JWT not in logs
