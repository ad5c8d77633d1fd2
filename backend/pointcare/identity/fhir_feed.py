"""Patients from a FHIR R4 Bundle (JSON) of Patient resources.

From each Patient:

- MRN: the identifier typed MR (``type.coding`` code "MR", HL7 table v2-0203); without one, the
  only identifier. Several identifiers and none typed MR is an error: taking, say, a national ID
  as the MRN would file photos under a number no PACS knows. Identifiers with use "old" are skipped.
- Issuer: the identifier's ``system`` as is (URIs from different organisations never collide, as
  their last path segment, often "mrn", would), minus a ``urn:oid:`` prefix (a bare OID is how
  DICOM and HL7 v2 write an assigning authority). It must fit DICOM LO (64 characters). No
  system: the default issuer.
- Name: the "official" name, else the first; ``given`` parts joined by spaces.
- ``birthDate`` must be a full date (FHIR allows "1980" or "1980-05"). ``gender``: male, female,
  other, unknown -> M, F, O, U; absent -> U.

Visit numbers are not read (a Patient resource has none), so stored visits are kept.
"""

from __future__ import annotations

import json
from typing import Any

from pointcare.domain.patients import MAX_ID_LENGTH
from pointcare.identity.feed import FeedRow, FieldChecks, RowError

V2_IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEDICAL_RECORD_NUMBER = "MR"
OID_URN_PREFIX = "urn:oid:"
FHIR_GENDER_TO_SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}


def read_fhir_bundle(text: str, *, default_issuer: str) -> tuple[list[FeedRow], list[RowError]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [RowError(exc.lineno, f"is not valid JSON: {exc.msg} (column {exc.colno})")]
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        kind = (
            document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        )
        return [], [RowError(1, f"expected a FHIR Bundle of Patient resources, got {kind!r}")]
    entries = document.get("entry")
    if not isinstance(entries, list) or not entries:
        return [], [RowError(1, "the Bundle has no entries")]
    rows: list[FeedRow] = []
    errors: list[RowError] = []
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            errors.append(RowError(number, "has no resource", "entry"))
            continue
        if resource.get("resourceType") != "Patient":
            kind = resource.get("resourceType")
            message = f"is a {kind!r} resource; only Patient resources can be imported"
            errors.append(RowError(number, message, "entry"))
            continue
        checks = FieldChecks()
        identity = checks.identity(**_patient_fields(resource, default_issuer, checks))
        if identity is not None:
            rows.append(FeedRow(number, identity, "entry"))
        errors.extend(RowError(number, problem, "entry") for problem in checks.problems)
    return rows, errors


def _patient_fields(
    patient: dict[str, Any], default_issuer: str, checks: FieldChecks
) -> dict[str, str | None]:
    """Raw fields for ``FieldChecks.identity``; None for a part found missing (and reported)."""
    mrn, system = _medical_record_number(patient, checks)
    family, given = _name(patient, checks)
    gender = patient.get("gender", "unknown")
    sex = FHIR_GENDER_TO_SEX.get(gender) if isinstance(gender, str) else None
    if sex is None:
        checks.problems.append(f"gender {gender!r} is not one of {', '.join(FHIR_GENDER_TO_SEX)}")
    birth = patient.get("birthDate", "")
    return {
        "mrn": mrn,
        "issuer": _issuer(system, default_issuer, checks) if mrn is not None else None,
        "family_name": family,
        "given_name": given,
        "birth_date": birth if isinstance(birth, str) else json.dumps(birth),
        "sex": sex,
    }


def _medical_record_number(
    patient: dict[str, Any], checks: FieldChecks
) -> tuple[str | None, str | None]:
    """The MRN and its identifier system."""
    identifiers = [
        item
        for item in _list(patient.get("identifier"))
        if isinstance(item.get("value"), str) and item.get("use") != "old"
    ]
    typed = [item for item in identifiers if _is_medical_record_number(item)]
    if typed:
        chosen = typed[0]
    elif len(identifiers) == 1:
        chosen = identifiers[0]
    else:
        checks.problems.append(
            "has no identifier"
            if not identifiers
            else f"has {len(identifiers)} identifiers and none is typed MR; cannot tell the MRN"
        )
        return None, None
    system = chosen.get("system")
    return str(chosen["value"]), system if isinstance(system, str) and system.strip() else None


def _is_medical_record_number(identifier: dict[str, Any]) -> bool:
    kind = identifier.get("type")
    codings = _list(kind.get("coding")) if isinstance(kind, dict) else []
    return any(
        coding.get("code") == MEDICAL_RECORD_NUMBER
        and coding.get("system") in (None, V2_IDENTIFIER_TYPES)
        for coding in codings
    )


def _issuer(system: str | None, default_issuer: str, checks: FieldChecks) -> str | None:
    if system is None:
        return default_issuer
    issuer = system.strip().removeprefix(OID_URN_PREFIX)
    if len(issuer) > MAX_ID_LENGTH:
        checks.problems.append(
            f"identifier system {system!r} is longer than {MAX_ID_LENGTH} characters"
            " and cannot serve as the issuer"
        )
        return None
    return issuer


def _name(patient: dict[str, Any], checks: FieldChecks) -> tuple[str | None, str | None]:
    """Family and given names of the official name, else of the first."""
    names = _list(patient.get("name"))
    if not names:
        checks.problems.append("has no name")
        return None, None
    chosen = next((name for name in names if name.get("use") == "official"), names[0])
    family = chosen.get("family")
    given = " ".join(_list_of_str(chosen.get("given")))
    if not isinstance(family, str):
        checks.problems.append("name has no family part")
        return None, given
    return family, given


def _list(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a FHIR array (other items ignored: they carry nothing we use)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _list_of_str(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


__all__ = ["FHIR_GENDER_TO_SEX", "MEDICAL_RECORD_NUMBER", "V2_IDENTIFIER_TYPES", "read_fhir_bundle"]
