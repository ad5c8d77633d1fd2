"""Launch token verification: every way a token can be wrong is refused with its own reason."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pointcare.auth.roles import Role
from pointcare.launch.claims import LaunchView
from pointcare.launch.config import issuer_from_mapping
from pointcare.launch.errors import LaunchIncomplete, LaunchRefused
from pointcare.launch.verify import LaunchVerifier
from tests.support.launch import (
    HS_ISSUER,
    claims,
    ec_key,
    hs_issuer,
    public_pem,
    rsa_key,
    sign,
    sign_raw,
    verifier,
)

RS_ISSUER = "https://ehr-rs.test.example"
ES_ISSUER = "https://ehr-es.test.example"
RSA_KEY = rsa_key()
EC_KEY = ec_key()


def pem_issuer(issuer_id: str, key: Any, tmp_path: Any, algorithms: list[str]) -> Any:
    path = tmp_path / f"{abs(hash(issuer_id))}.pem"
    path.write_bytes(public_pem(key))
    return issuer_from_mapping(
        {"id": issuer_id, "public_key_file": str(path), "algorithms": algorithms},
        base_dir=tmp_path,
    )


def refused(check: LaunchVerifier, token: object) -> str:
    with pytest.raises(LaunchRefused) as caught:
        check.verify(token)
    assert "eyJ" not in caught.value.detail  # the token is never echoed
    return caught.value.reason


def test_a_good_hs256_token_gives_its_claims() -> None:
    result = verifier().verify(sign(claims(view="capture")))
    assert result.issuer == HS_ISSUER
    assert result.subject == "u-1234"
    assert result.role is Role.PHOTOGRAPHER
    assert (result.patient_mrn, result.patient_issuer) == ("PC100001", "PCDEMO")
    assert result.encounter == "V24-000101"
    assert result.view is LaunchView.CAPTURE


def test_the_patient_may_be_a_plain_mrn() -> None:
    result = verifier().verify(sign(claims(patient="PC100003", role="Physician")))
    assert (result.patient_mrn, result.patient_issuer) == ("PC100003", None)
    assert result.role is Role.CLINICIAN


def test_rs256_and_es256_with_keys_made_here(tmp_path: Any) -> None:
    check = verifier(
        pem_issuer(RS_ISSUER, RSA_KEY, tmp_path, ["RS256"]),
        pem_issuer(ES_ISSUER, EC_KEY, tmp_path, ["ES256"]),
    )
    assert check.verify(sign(claims(RS_ISSUER), RSA_KEY, "RS256")).issuer == RS_ISSUER
    assert check.verify(sign(claims(ES_ISSUER), EC_KEY, "ES256")).issuer == ES_ISSUER
    # The RSA issuer's key does not verify a token signed by someone else's RSA key.
    assert refused(check, sign(claims(RS_ISSUER), rsa_key(), "RS256")) == "signature"


def test_a_forged_signature_is_refused() -> None:
    assert (
        refused(verifier(), sign(claims(), "another-secret-of-thirty-two-bytes!!")) == "signature"
    )
    header, _payload, signature = sign(claims()).split(".")
    other = base64.urlsafe_b64encode(json.dumps(claims(sub="admin")).encode()).rstrip(b"=")
    assert refused(verifier(), f"{header}.{other.decode()}.{signature}") == "signature"


def test_expired_and_leeway() -> None:
    now = int(time.time())
    old = claims(iat=now - 200, nbf=now - 200, exp=now - 40)
    assert refused(verifier(leeway=30), sign(old)) == "expired"
    # 40 s past exp is within a 60 s leeway.
    assert verifier(leeway=60).verify(sign(old)).subject == "u-1234"


def test_nbf_in_the_future_is_refused_beyond_the_leeway() -> None:
    now = int(time.time())
    assert refused(verifier(), sign(claims(nbf=now + 120, exp=now + 200))) == "not_yet_valid"
    assert verifier().verify(sign(claims(nbf=now + 10))).subject == "u-1234"


def test_a_token_living_longer_than_five_minutes_is_refused() -> None:
    now = int(time.time())
    assert refused(verifier(), sign(claims(iat=now, exp=now + 301))) == "lifetime"
    assert verifier().verify(sign(claims(iat=now, exp=now + 300))).subject == "u-1234"


def test_an_issue_time_in_the_future_is_refused() -> None:
    now = int(time.time())
    assert refused(verifier(), sign(claims(iat=now + 120, nbf=None, exp=now + 200))) in {
        "not_yet_valid"
    }


def test_wrong_audience_and_wrong_issuer() -> None:
    assert refused(verifier(), sign(claims(aud="https://other.example"))) == "audience"
    assert refused(verifier(), sign(claims(iss="https://unknown.example"))) == "issuer"
    # A token of a trusted issuer signed with the key of another trusted issuer.
    two = verifier(hs_issuer(), hs_issuer("other-ehr", "x" * 40))
    assert refused(two, sign(claims("other-ehr"))) == "signature"


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
    assert refused(verifier(), unsigned) == "algorithm"
    assert refused(verifier(), unsigned.rstrip(".") + ".") == "algorithm"


def test_the_public_key_is_never_an_hmac_secret(tmp_path: Any) -> None:
    """The classic confusion attack: HS256 signed with the RSA public key's PEM as secret."""
    check = verifier(pem_issuer(RS_ISSUER, RSA_KEY, tmp_path, ["RS256"]))
    pem = public_pem(RSA_KEY)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims(RS_ISSUER)).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signing_input = header + b"." + payload
    mac = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest())
    forged = (signing_input + b"." + mac.rstrip(b"=")).decode()
    assert refused(check, forged) == "algorithm"
    # Even an issuer misconfigured to list HS256 beside a public key cannot be built.
    with pytest.raises(ValueError, match="HS256"):
        pem_issuer("x", RSA_KEY, tmp_path, ["RS256", "HS256"])


def test_an_es256_token_is_not_accepted_by_an_rs256_issuer(tmp_path: Any) -> None:
    check = verifier(pem_issuer(RS_ISSUER, RSA_KEY, tmp_path, ["RS256"]))
    assert refused(check, sign(claims(RS_ISSUER), EC_KEY, "ES256")) == "algorithm"


@pytest.mark.parametrize("missing", ["jti", "exp", "iat", "sub", "aud"])
def test_required_claims(missing: str) -> None:
    values = claims()
    del values[missing]
    assert refused(verifier(), sign(values)) in {"claims", "audience"}


@pytest.mark.parametrize(
    "changes",
    [
        {"role": "porter"},
        {"role": "admin"},
        {"patient": 12345},
        {"patient": {"issuer": "PCDEMO"}},
        {"patient": "  "},
        {"view": "delete"},
        {"encounter": ["V1"]},
        {"name": "Evil\\Name"},
    ],
)
def test_unusable_claims_are_refused(changes: dict[str, Any]) -> None:
    reason = refused(verifier(), sign(claims(**changes)))
    assert reason in {"claims", "role"}


def test_no_token_and_junk() -> None:
    with pytest.raises(LaunchIncomplete):
        verifier().verify(None)
    with pytest.raises(LaunchIncomplete):
        verifier().verify("x" * 9000)
    assert refused(verifier(), "not.a.jwt") == "malformed"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_string_is_refused_with_the_modules_own_error(text: str) -> None:
    with pytest.raises(LaunchRefused):
        verifier().verify(text)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "iss",
                "aud",
                "sub",
                "name",
                "role",
                "patient",
                "encounter",
                "view",
                "iat",
                "nbf",
                "exp",
                "jti",
            ]
        ),
        _JSON,
    ),
    st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit"]), _JSON, max_size=2),
)
def test_arbitrary_claims_signed_correctly_never_raise_anything_else(
    changes: dict[str, Any], headers: dict[str, Any]
) -> None:
    header = {"typ": "JWT", **headers, "alg": "HS256"}
    token = sign_raw(header, claims(**{k: v for k, v in changes.items() if v is not None}))
    with contextlib.suppress(LaunchRefused):
        verifier().verify(token)


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    for payload in ([1, 2], "text", 3):
        assert refused(verifier(), sign_raw({"alg": "HS256"}, payload)) == "malformed"
