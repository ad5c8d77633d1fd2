"""Launch tokens for tests: keys made on the spot, claims that pass, and a signer."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pointcare.launch.config import IssuerConfig, issuer_from_mapping
from pointcare.launch.verify import LaunchVerifier

AUDIENCE = "https://photos.test.example"
HS_ISSUER = "https://ehr-hs.test.example"
HS_SECRET = "a-shared-secret-that-is-at-least-32-bytes-long"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def hs_issuer(issuer_id: str = HS_ISSUER, secret: str = HS_SECRET) -> IssuerConfig:
    return issuer_from_mapping({"id": issuer_id, "secret": secret}, base_dir=Path(__file__).parent)


def claims(issuer: str = HS_ISSUER, **changes: Any) -> dict[str, Any]:
    """Claims that pass: a nurse at the EHR, patient PC100001, issued now, two minutes to live."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "u-1234",
        "name": "Nora Nightingale",
        "role": "nurse",
        "patient": {"id": "PC100001", "issuer": "PCDEMO"},
        "encounter": "V24-000101",
        "iat": now,
        "nbf": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def sign(
    values: dict[str, Any], key: Any = HS_SECRET, algorithm: str = "HS256", **headers: Any
) -> str:
    return jwt.encode(values, key, algorithm=algorithm, headers=headers or None)


def verifier(*issuers: IssuerConfig, leeway: int = 30) -> LaunchVerifier:
    return LaunchVerifier(issuers or (hs_issuer(),), audience=AUDIENCE, leeway_seconds=leeway)


def sign_raw(header: dict[str, Any], payload: Any, secret: bytes = HS_SECRET.encode()) -> str:
    """HS256 over any JSON, bypassing PyJWT's own checks when encoding (for hostile tokens)."""
    import base64
    import hashlib
    import hmac
    import json

    def part(value: Any) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part(header) + b"." + part(payload)
    mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
