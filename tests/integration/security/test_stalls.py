"""No request stalls the server: a real ``pointcare serve`` (uvicorn) answers ``/healthz``
promptly while hostile requests run, timed from another connection.

- a 40 MB URL-encoded body to the public sign-in form (``a=b&`` ten million times);
- 45 EHR launches waiting for a JWKS that trickles one byte every two seconds.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.launch import claims, rsa_key, sign
from tests.support.server import LiveServer, live_env
from tests.support.stall import HealthProbe, peak_memory_mb, send_streamed

ISSUER = "https://ehr-slow.test.example"
AUDIENCE = "https://photos.test.example"
PROMPT = 2.0
"""Seconds within which ``/healthz`` must answer while the attack runs (it takes milliseconds
when idle; the machine running the tests may be busy)."""

pytestmark = pytest.mark.slow


def test_a_40_mb_sign_in_body_is_refused_before_it_is_read_and_stalls_nobody() -> None:
    chunk = b"a=b&" * 16384  # 64 KiB
    repeat = 10_000_000 * 4 // len(chunk)  # 40 MB in all
    head = (
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(chunk) * repeat}\r\n\r\n".encode()
    )
    with LiveServer(env=live_env()) as server:
        with HealthProbe(server) as probe:
            time.sleep(0.5)  # the probe has a baseline
            status, took = send_streamed(server, head, chunk, repeat)
            time.sleep(1.0)  # and it keeps probing after the attack
        peak = peak_memory_mb(server.pid)
    print(f"sign-in with 40 MB: {status} in {took:.2f} s; /healthz slowest {probe.slowest:.3f} s "
          f"over {len(probe.timings)} probes; server peak memory {peak:.0f} MB")  # fmt: skip
    assert status == 413
    assert took < PROMPT
    assert probe.slowest < PROMPT
    assert peak < 400


class TricklingJwks(http.server.BaseHTTPRequestHandler):
    """A JWKS endpoint that sends its body one byte every two seconds."""

    def do_GET(self) -> None:
        body = b'{"keys": []}' + b" " * 20
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return  # the client gave up: what it should do
            time.sleep(2.0)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickling_jwks() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TricklingJwks)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


def launch_status(server: LiveServer, token: str) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection(server.host, server.port, timeout=90)
    try:
        connection.request("GET", f"/launch?token={token}")
        status = connection.getresponse().status
    except OSError:
        status = 0  # no answer in time
    finally:
        connection.close()
    return status, time.monotonic() - started


def test_launches_waiting_for_a_trickling_jwks_stall_nobody(trickling_jwks: str) -> None:
    env = live_env(
        POINTCARE_LAUNCH_ISSUER=ISSUER,
        POINTCARE_LAUNCH_ISSUER_JWKS_URL=trickling_jwks,
        POINTCARE_LAUNCH_AUDIENCE=AUDIENCE,
    )
    key = rsa_key()
    tokens = [
        sign(claims(ISSUER, aud=AUDIENCE), key, "RS256", kid=f"rotated-{n}") for n in range(45)
    ]
    with (
        LiveServer(env=env) as server,
        HealthProbe(server) as probe,
        ThreadPoolExecutor(max_workers=45) as pool,
    ):
        time.sleep(0.5)
        answers = list(pool.map(lambda token: launch_status(server, token), tokens))
    slowest_launch = max(took for _, took in answers)
    print(f"45 launches against a trickling JWKS: statuses {sorted({s for s, _ in answers})}, "
          f"slowest {slowest_launch:.1f} s; /healthz slowest {probe.slowest:.3f} s "
          f"over {len(probe.timings)} probes")  # fmt: skip
    assert {status for status, _ in answers} == {403}  # no key: refused, cleanly
    assert probe.slowest < PROMPT
    assert slowest_launch < 15
