"""A photo submission as the API receives it, checked field by field into clinical terms."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from pointcare.domain.body_sites import BodySite, Laterality, body_site, parse_laterality
from pointcare.domain.consent import Consent, ConsentMethod, ConsentNotGiven
from pointcare.domain.views import View
from pointcare.errors import ConsentRequired, InvalidInput

T = TypeVar("T")

MAX_DESCRIPTION_LENGTH = 1024
CLOCK_SKEW = timedelta(minutes=5)
"""A phone's clock may run a little ahead; further ahead than this is a wrong date."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RawSubmission:
    """Form fields as text, exactly as they arrived (None when absent)."""

    patient_id: str | None = None
    issuer: str | None = None
    body_site: str | None = None
    laterality: str | None = None
    view: str | None = None
    description: str | None = None
    consent_clinical: str | None = None
    consent_teaching: str | None = None
    consent_publication: str | None = None
    consent_method: str | None = None
    sensitive: str | None = None
    recognizable: str | None = None
    capture_id: str | None = None
    captured_at: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PhotoRequest:
    """A submission whose every field was checked: what the ingest service works from."""

    patient_mrn: str
    issuer: str | None
    site: BodySite
    laterality: Laterality
    view: View | None
    description: str
    consent: Consent
    sensitive: bool
    recognizable: bool
    capture_id: str
    captured_at: datetime
    session_id: str | None


def parse_bool(raw: str | None, name: str, *, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"true", "1", "yes", "on"}:
        return True
    if value in {"false", "0", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def parse_uuid(raw: str, name: str) -> str:
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ValueError(f"{name} must be a UUID, got {raw!r}") from None


def parse_captured_at(raw: str | None, now: datetime) -> datetime:
    if raw is None or not raw.strip():
        return now
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"captured_at must be an ISO 8601 date and time with a UTC offset, got {raw!r}"
        ) from None
    if value.tzinfo is None:
        raise ValueError("captured_at needs a UTC offset (for example 2026-05-04T10:15:00+02:00)")
    if value > now + CLOCK_SKEW:
        raise ValueError("captured_at is in the future")
    if value.year < 1990:
        raise ValueError("captured_at is implausibly old")
    return value


def check_submission(raw: RawSubmission, *, now: datetime) -> PhotoRequest:
    """Turn the raw fields into a PhotoRequest, collecting every problem in one InvalidInput."""
    errors: dict[str, str] = {}

    def field(name: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ValueError as exc:
            errors[name] = str(exc)
            return None

    mrn = (raw.patient_id or "").strip()
    if not mrn:
        errors["patient_id"] = "patient_id (the patient's MRN) is required"
    site: BodySite | None = None
    if not (raw.body_site or "").strip():
        errors["body_site"] = "body_site (a SNOMED CT code from GET /api/v1/body-sites) is required"
    else:
        site = field("body_site", lambda: body_site(raw.body_site or ""))
    laterality_asked = field("laterality", lambda: parse_laterality(raw.laterality))
    laterality: Laterality | None = None
    if site is not None and "laterality" not in errors:
        laterality = field("laterality", lambda: site.laterality_for(laterality_asked))
    view = field("view", lambda: View.parse(raw.view))
    description = " ".join((raw.description or "").split())
    if len(description) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = f"description is longer than {MAX_DESCRIPTION_LENGTH} characters"
    clinical = field(
        "consent_clinical",
        lambda: parse_bool(raw.consent_clinical, "consent_clinical", default=True),
    )
    teaching = field(
        "consent_teaching",
        lambda: parse_bool(raw.consent_teaching, "consent_teaching", default=False),
    )
    publication = field(
        "consent_publication",
        lambda: parse_bool(raw.consent_publication, "consent_publication", default=False),
    )
    method = field("consent_method", lambda: _parse_method(raw.consent_method))
    sensitive = field("sensitive", lambda: parse_bool(raw.sensitive, "sensitive", default=False))
    recognizable = field(
        "recognizable", lambda: _parse_optional_bool(raw.recognizable, "recognizable")
    )
    capture_id = (
        field("capture_id", lambda: parse_uuid(raw.capture_id or "", "capture_id"))
        if raw.capture_id and raw.capture_id.strip()
        else str(uuid.uuid4())
    )
    session_id = (
        field("session_id", lambda: parse_uuid(raw.session_id or "", "session_id"))
        if raw.session_id and raw.session_id.strip()
        else None
    )
    captured_at = field("captured_at", lambda: parse_captured_at(raw.captured_at, now))

    consent: Consent | None = None
    if clinical is False:
        raise ConsentRequired(
            "The patient has not consented to photographs for the clinical record, so this "
            "photo cannot be stored."
        )
    if not errors:
        try:
            consent = Consent(
                clinical_record=True,
                teaching=bool(teaching),
                publication=bool(publication),
                method=method or ConsentMethod.VERBAL,
            )
        except ConsentNotGiven as exc:  # pragma: no cover - clinical is checked above
            raise ConsentRequired(str(exc)) from None
        except ValueError as exc:
            errors["consent_method"] = str(exc)
    if errors or site is None or laterality is None or consent is None or captured_at is None:
        summary = "; ".join(errors.values()) or "the submission is incomplete"
        raise InvalidInput(f"The photo was not stored: {summary}.", errors=errors)
    assert capture_id is not None
    return PhotoRequest(
        patient_mrn=mrn,
        issuer=(raw.issuer or "").strip() or None,
        site=site,
        laterality=laterality,
        view=view,
        description=description,
        consent=consent,
        sensitive=bool(sensitive) or site.intimate,
        recognizable=site.identifying if recognizable is None else recognizable,
        capture_id=capture_id,
        captured_at=captured_at,
        session_id=session_id,
    )


def _parse_method(raw: str | None) -> ConsentMethod | None:
    if raw is None or not raw.strip():
        return None
    try:
        return ConsentMethod(raw.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        choices = ", ".join(m.value for m in ConsentMethod)
        raise ValueError(f"consent_method must be one of {choices}, got {raw!r}") from None


def _parse_optional_bool(raw: str | None, name: str) -> bool | None:
    if raw is None or not raw.strip():
        return None
    return parse_bool(raw, name, default=False)
