"""JWKS issuers: keys fetched from a real HTTP server, cached by kid, fetched again on rotation,
at most once per interval for unknown key ids."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from pointcare.launch.config import issuer_from_mapping
from pointcare.launch.errors import LaunchRefused
from pointcare.launch.keys import JwksKeys
from pointcare.launch.verify import LaunchVerifier
from tests.support.launch import AUDIENCE, claims, ec_key, rsa_key, sign

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


def test_keys_are_fetched_cached_and_rotated(served: tuple[KeySet, str]) -> None:
    key_set, url = served
    clock = Clock()
    check, _ = make_verifier(url, clock)
    first, second = rsa_key(), ec_key()
    key_set.publish("k1", first, "RS256")

    assert check.verify(sign(claims(ISSUER), first, "RS256", kid="k1")).issuer == ISSUER
    assert check.verify(sign(claims(ISSUER), first, "RS256", kid="k1")).issuer == ISSUER
    assert key_set.requests == 1  # cached by kid

    # The EHR rotates to an EC key: a token with the new kid makes Pointcare fetch again.
    key_set.keys.clear()
    key_set.publish("k2", second, "ES256")
    clock.now += 61
    assert check.verify(sign(claims(ISSUER), second, "ES256", kid="k2")).issuer == ISSUER
    assert key_set.requests == 2
    # The retired key is gone with the refresh.
    with pytest.raises(LaunchRefused) as caught:
        check.verify(sign(claims(ISSUER), first, "RS256", kid="k1"))
    assert caught.value.reason == "key"


def test_unknown_kids_do_not_hammer_the_issuer(served: tuple[KeySet, str]) -> None:
    key_set, url = served
    clock = Clock()
    check, _ = make_verifier(url, clock)
    key = rsa_key()
    key_set.publish("k1", key, "RS256")
    for attempt in range(5):
        with pytest.raises(LaunchRefused) as caught:
            check.verify(sign(claims(ISSUER), key, "RS256", kid=f"made-up-{attempt}"))
        assert caught.value.reason == "key"
    assert key_set.requests == 1  # one fetch within the interval, however many unknown kids
    clock.now += 61
    with pytest.raises(LaunchRefused):
        check.verify(sign(claims(ISSUER), key, "RS256", kid="made-up-again"))
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
        check.verify(sign(claims(ISSUER), "secret-secret-secret-secret-secret", "HS256", kid="h"))
    assert caught.value.reason == "algorithm"  # the JWKS issuer allows RS256/ES256 only


def test_an_unreachable_jwks_refuses_cleanly() -> None:
    check, keys = make_verifier("http://127.0.0.1:9/jwks.json", Clock())
    with pytest.raises(LaunchRefused) as caught:
        check.verify(sign(claims(ISSUER), rsa_key(), "RS256", kid="k1"))
    assert caught.value.reason == "key"
    assert keys.fetch_count == 1
