"""What a verified launch token says: who, in which role, for which patient and encounter.

Pure: reads a claims dictionary whose signature and times were already checked, and raises
``LaunchRefused`` naming the claim that is missing or malformed. The ``patient`` claim is either
the MRN as a string (``"PC100001"``) or an object ``{"id": "PC100001", "issuer": "PCDEMO"}``;
without an issuer the MRN must be unambiguous in the directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pointcare.auth.roles import Role
from pointcare.domain.patients import check_identifier, check_name
from pointcare.launch.errors import LaunchRefused


class LaunchView(StrEnum):
    """Where the launch lands: the bedside capture flow or the patient's photos."""

    CAPTURE = "capture"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class LaunchClaims:
    issuer: str
    subject: str
    """The user's id at the EHR."""
    display_name: str
    role: Role
    patient_mrn: str
    patient_issuer: str | None
    encounter: str | None
    view: LaunchView | None
    jti: str
    expires_at: int
    """The token's ``exp`` (seconds since the epoch): how long its ``jti`` must be remembered."""


def parse_claims(claims: Mapping[str, Any], roles: Mapping[str, Role]) -> LaunchClaims:
    role_claim = _text(claims, "role")
    role = roles.get(role_claim.strip().lower())
    if role is None:
        raise LaunchRefused(
            "role",
            "Your role at the EHR does not give access to clinical photos here. Ask the IT "
            "service desk to map it if you need access.",
        )
    mrn, patient_issuer = _patient(claims.get("patient"))
    encounter = claims.get("encounter")
    if encounter is not None and not isinstance(encounter, str):
        raise _bad("encounter", "a string")
    view = claims.get("view")
    if view is not None and (not isinstance(view, str) or view not in set(LaunchView)):
        raise _bad("view", "'capture' or 'review'")
    expires = claims.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise _bad("exp", "a whole number of seconds")
    return LaunchClaims(
        issuer=_identifier(claims, "iss"),
        subject=_identifier(claims, "sub"),
        display_name=_name(claims),
        role=role,
        patient_mrn=mrn,
        patient_issuer=patient_issuer,
        encounter=_checked(encounter, "encounter") if encounter and encounter.strip() else None,
        view=LaunchView(view) if view is not None else None,
        jti=_identifier(claims, "jti"),
        expires_at=expires,
    )


def _patient(value: object) -> tuple[str, str | None]:
    if isinstance(value, str):
        return _checked(value, "patient"), None
    if isinstance(value, Mapping):
        mrn, issuer = value.get("id"), value.get("issuer")
        if not isinstance(mrn, str):
            raise _bad("patient.id", "a string (the MRN)")
        if issuer is not None and not isinstance(issuer, str):
            raise _bad("patient.issuer", "a string")
        cleaned_issuer = _checked(issuer, "patient.issuer") if issuer and issuer.strip() else None
        return _checked(mrn, "patient.id"), cleaned_issuer
    raise _bad("patient", 'the MRN, or {"id": MRN, "issuer": ...}')


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, "a non-empty string")
    return value


def _identifier(claims: Mapping[str, Any], name: str) -> str:
    return _checked(_text(claims, name), name)


def _checked(value: str, name: str) -> str:
    try:
        return check_identifier(value, name)
    except ValueError as exc:
        raise LaunchRefused("claims", f"The EHR sent an unusable '{name}': {exc}.") from None


def _name(claims: Mapping[str, Any]) -> str:
    value = claims.get("name")
    if value is None:
        return _identifier(claims, "sub")
    if not isinstance(value, str):
        raise _bad("name", "a string")
    try:
        return check_name(value, "name")
    except ValueError as exc:
        raise LaunchRefused("claims", f"The EHR sent an unusable 'name': {exc}.") from None


def _bad(name: str, expected: str) -> LaunchRefused:
    return LaunchRefused("claims", f"The EHR's launch token has no usable '{name}' ({expected}).")
