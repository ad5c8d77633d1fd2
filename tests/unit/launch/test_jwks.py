"""JWKS issuers: keys fetched from a real HTTP server, cached by kid, fetched again on rotation,
at most once per interval for unknown key ids; https only (plain http to this machine alone);
one deadline for the whole fetch; the body cut off at the size cap as it arrives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import jwt
import pytest

from pointcare.launch.claims import LaunchClaims
from pointcare.launch.config import issuer_from_mapping
from pointcare.launch.errors import LaunchConfigError, LaunchRefused
from pointcare.launch.keys import JwksKeys
from pointcare.launch.verify import LaunchVerifier
from tests.support.launch import AUDIENCE, claims, ec_key, rsa_key, sign
from tests.support.loop import run_async

ISSUER = "https://ehr-jwks.test.example"


class KeySet:
    """What the tiny server hands out, and how often it was asked."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0

    def publish(self, kid: str, key: Any, alg: str) -> None:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        self.keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})


@pytest.fixture
def served() -> Iterator[tuple[KeySet, str]]:
    key_set = KeySet()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key_set.requests += 1
            body = json.dumps({"keys": key_set.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield key_set, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_verifier(url: str, clock: Clock) -> tuple[LaunchVerifier, JwksKeys]:
    issuer = issuer_from_mapping({"id": ISSUER, "jwks_url": url}, base_dir=None)  # type: ignore[arg-type]
    keys = JwksKeys(url, min_refetch_seconds=60, clock=clock)
    return LaunchVerifier(
        [issuer], audience=AUDIENCE, leeway_seconds=30, key_sources={ISSUER: keys}
    ), keys


def verified(check: LaunchVerifier, token: str) -> LaunchClaims:
    """What ``GET /launch`` does: fetch the keys (event loop), then verify (worker thread)."""
    run_async(check.fetch_keys, token)
    return check.verify(token)


def test_keys_are_fetched_cached_and_rotated(served: tuple[KeySet, str]) -> None:
    key_set, url = served
    clock = Clock()
    check, _ = make_verifier(url, clock)
    first, second = rsa_key(), ec_key()
    key_set.publish("k1", first, "RS256")

    assert verified(check, sign(claims(ISSUER), first, "RS256", kid="k1")).issuer == ISSUER
    assert verified(check, sign(claims(ISSUER), first, "RS256", kid="k1")).issuer == ISSUER
    assert key_set.requests == 1  # cached by kid

    # The EHR rotates to an EC key: a token with the new kid makes Pointcare fetch again.
    key_set.keys.clear()
    key_set.publish("k2", second, "ES256")
    clock.now += 61
    assert verified(check, sign(claims(ISSUER), second, "ES256", kid="k2")).issuer == ISSUER
    assert key_set.requests == 2
    # The retired key is gone with the refresh.
    with pytest.raises(LaunchRefused) as caught:
        verified(check, sign(claims(ISSUER), first, "RS256", kid="k1"))
    assert caught.value.reason == "key"


def test_unknown_kids_do_not_hammer_the_issuer(served: tuple[KeySet, str]) -> None:
    key_set, url = served
    clock = Clock()
    check, _ = make_verifier(url, clock)
    key = rsa_key()
    key_set.publish("k1", key, "RS256")
    for attempt in range(5):
        with pytest.raises(LaunchRefused) as caught:
            verified(check, sign(claims(ISSUER), key, "RS256", kid=f"made-up-{attempt}"))
        assert caught.value.reason == "key"
    assert key_set.requests == 1  # one fetch within the interval, however many unknown kids
    clock.now += 61
    with pytest.raises(LaunchRefused):
        verified(check, sign(claims(ISSUER), key, "RS256", kid="made-up-again"))
    assert key_set.requests == 2


def test_a_jwks_key_is_never_used_with_another_algorithm(served: tuple[KeySet, str]) -> None:
    key_set, url = served
    check, _ = make_verifier(url, Clock())
    key = rsa_key()
    key_set.publish("k1", key, "RS256")
    # An "oct" (HMAC) key in the set is ignored: a key set never hands out shared secrets.
    key_set.keys.append(
        {"kty": "oct", "kid": "h", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}
    )
    with pytest.raises(LaunchRefused) as caught:
        verified(
            check, sign(claims(ISSUER), "secret-secret-secret-secret-secret", "HS256", kid="h")
        )
    assert caught.value.reason == "algorithm"  # the JWKS issuer allows RS256/ES256 only


def test_an_unreachable_jwks_refuses_cleanly() -> None:
    check, keys = make_verifier("http://127.0.0.1:9/jwks.json", Clock())
    with pytest.raises(LaunchRefused) as caught:
        verified(check, sign(claims(ISSUER), rsa_key(), "RS256", kid="k1"))
    assert caught.value.reason == "key"
    assert keys.fetch_count == 1


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://ehr.hospital.example/jwks.json", True),
        ("http://127.0.0.1:8443/jwks.json", True),
        ("http://[::1]/jwks.json", True),
        ("http://localhost/jwks.json", True),
        ("http://ehr.hospital.example/jwks.json", False),
        ("http://10.0.0.5/jwks.json", False),
        ("http://127.0.0.1.attacker.example/jwks.json", False),
        ("ftp://ehr.hospital.example/jwks.json", False),
        ("https:///jwks.json", False),
    ],
)
def test_a_jwks_is_fetched_over_https_only(url: str, accepted: bool) -> None:
    mapping = {"id": ISSUER, "jwks_url": url}
    if accepted:
        assert issuer_from_mapping(mapping, base_dir=None).jwks_url == url  # type: ignore[arg-type]
    else:
        with pytest.raises(LaunchConfigError, match="https"):
            issuer_from_mapping(mapping, base_dir=None)  # type: ignore[arg-type]


class Hostile:
    """A key server that answers slowly or with far too much; counts what it managed to send."""

    def __init__(self, *, trickle: float = 0.0, size: int = 0, announce: bool = True) -> None:
        self.trickle, self.size, self.announce = trickle, size, announce
        self.sent = 0
        self.requests = 0


@pytest.fixture
def hostile() -> Iterator[tuple[Hostile, Any]]:
    behaviours: list[Hostile] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            how = behaviours[-1]
            how.requests += 1
            body_size = how.size or 64
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if how.announce:
                self.send_header("Content-Length", str(body_size))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            piece = b" " * (1 if how.trickle else 65536)
            try:
                while how.sent < body_size:
                    self.wfile.write(piece)
                    self.wfile.flush()
                    how.sent += len(piece)
                    if how.trickle:
                        time.sleep(how.trickle)
            except OSError:
                return  # the client hung up: what it should do

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(how: Hostile) -> str:
        behaviours.append(how)
        return f"http://127.0.0.1:{server.server_address[1]}/jwks.json"

    try:
        yield behaviours, serve
    finally:
        server.shutdown()
        server.server_close()


def test_a_trickling_jwks_is_given_up_at_one_deadline_and_fetched_once(
    hostile: tuple[list[Hostile], Any],
) -> None:
    _, serve = hostile
    how = Hostile(trickle=0.5, size=100)
    keys = JwksKeys(serve(how), deadline_seconds=1.0)

    async def twenty_launches() -> float:
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(keys.refresh, f"kid-{n}")
        return time.monotonic() - started

    took = run_async(twenty_launches)
    assert took < 2.0  # one deadline (1 s) for the fetch and for everyone waiting on it
    assert how.requests == 1
    assert keys.fetch_count == 1
    with pytest.raises(LaunchRefused):
        keys.key_for("RS256", "kid-1")


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "no-length"])
def test_an_oversized_jwks_is_cut_off_as_it_arrives(
    hostile: tuple[list[Hostile], Any], announce: bool
) -> None:
    _, serve = hostile
    how = Hostile(size=64 * 1024 * 1024, announce=announce)
    keys = JwksKeys(serve(how), max_bytes=256 * 1024)
    run_async(keys.refresh, "k1")
    time.sleep(0.2)  # the server notices the hang-up
    assert keys.fetch_count == 1
    assert how.sent < 8 * 1024 * 1024  # far from the 64 MiB it had to give
    with pytest.raises(LaunchRefused):
        keys.key_for("RS256", "k1")
