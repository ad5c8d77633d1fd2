"""The fields a capture arrives with, and the capture command they make.

``CaptureFields`` is the one list of fields: the API, the capture page, the bedside and desk
upload send these names (each page a part of them). ``read_command`` checks them field by field
into a ``CaptureCommand``, collecting every problem into one ``InvalidInput``; what a way in
knows better than its fields (the patient of the page's path, a bedside session's patient and
consent) it passes in, and the fields' own are then ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TypeVar

from pointcare.capture.command import (
    CaptureCommand,
    ConfirmedPatient,
    ImageTags,
    Source,
)
from pointcare.domain.body_sites import BodySite, body_site, parse_aspect, parse_laterality
from pointcare.domain.clock import TakenAt, TakenAtSource
from pointcare.domain.consent import (
    CONSENT_FIELDS,
    ConsentAnswers,
    ConsentUnanswered,
    read_consent_answers,
)
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View
from pointcare.errors import ConsentRequired, InvalidInput

T = TypeVar("T")

MAX_DESCRIPTION_LENGTH = 1024
MAX_TITLE_LENGTH = 64
CLOCK_SKEW = timedelta(minutes=5)
"""A phone's clock may run a little ahead; further ahead than this is a wrong date."""
EARLIEST_PHOTO_YEAR = 1990
"""Before this, a date is a camera whose clock was never set, not a clinical photo."""
CLIENT_TIME_SOURCES = frozenset(
    {TakenAtSource.DEVICE, TakenAtSource.PHOTO, TakenAtSource.FILE, TakenAtSource.ENTERED}
)
"""What a client may say its ``captured_at`` came from."""
MAX_ROW_ID = 2**31
"""Beyond a 32-bit key no row can match (and PostgreSQL would refuse the number)."""


@dataclass(kw_only=True)
class CaptureFields:
    """A capture's fields as text, exactly as they arrived (None when absent)."""

    patient_id: str | None = None
    """The patient's MRN."""
    issuer: str | None = None
    body_site: str | None = None
    """A SNOMED CT concept id from ``GET /api/v1/body-sites``."""
    laterality: str | None = None
    """R, L, B or U."""
    aspect: str | None = None
    """Which face of the site (``aspects`` of the site in ``GET /api/v1/body-sites``): anterior,
    posterior, medial, lateral, superior or inferior; absent or empty: not stated."""
    view: str | None = None
    description: str | None = None
    consent_clinical: str | None = None
    """yes/no (or true/false): the patient agrees to photographs for the clinical record."""
    consent_teaching: str | None = None
    consent_publication: str | None = None
    consent_method: str | None = None
    """verbal, written or best_interests."""
    sensitive: str | None = None
    recognizable: str | None = None
    capture_id: str | None = None
    """A UUID the client makes per file: a retry with it stores nothing new."""
    captured_at: str | None = None
    """ISO 8601 with a UTC offset; absent: from the photo itself, else the time it arrives."""
    captured_at_source: str | None = None
    """Where ``captured_at`` came from: device (default), photo, file or entered."""
    session_id: str | None = None
    title: str | None = None
    """A document's title."""
    finding: str | None = None
    """The id of one of the patient's open findings (``GET /api/v1/patients/{mrn}/findings``)
    that the photo shows; absent or empty: none."""
    allow_duplicate: str | None = None
    """true to store a file again that was already stored for this patient."""

    def text(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(CaptureFields)}


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


def parse_finding_id(raw: str | None) -> int | None:
    """A finding's id as a form or the API sends it; None when none is chosen."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < MAX_ROW_ID:
        raise ValueError(f"finding must be the id of one of the patient's findings, got {raw!r}")
    return int(text)


def parse_captured_at(raw: str, now: datetime) -> datetime:
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
    if value.year < EARLIEST_PHOTO_YEAR:
        raise ValueError("captured_at is implausibly old")
    return value


class _Problems:
    """Collects each field's problem, so that one answer names them all."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, name: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None


def read_command(
    raw: CaptureFields,
    *,
    kind: ObjectKind,
    source: Source,
    now: datetime,
    patient: ConfirmedPatient | None = None,
    consent_record: tuple[int, ConsentAnswers] | None = None,
    session_id: str | None = None,
) -> CaptureCommand:
    """The capture command ``raw`` makes; ``InvalidInput`` (422) naming every problem.

    ``patient``, ``consent_record`` (a recorded consent's id and answers) and ``session_id``,
    when given, stand for the fields of the same meaning, which are then not read."""
    problems = _Problems()
    if patient is None:
        mrn = (raw.patient_id or "").strip()
        if not mrn:
            problems.errors["patient_id"] = "patient_id (the patient's MRN) is required"
        patient = ConfirmedPatient(mrn=mrn, issuer=(raw.issuer or "").strip() or None)
    capture_id = problems.check("capture_id", lambda: _capture_id(raw, kind))
    if session_id is None and raw.session_id and raw.session_id.strip():
        session_id = problems.check(
            "session_id", lambda: parse_uuid(raw.session_id or "", "session_id")
        )
    taken = problems.check("captured_at", lambda: _taken(raw, now))
    allow_duplicate = problems.check(
        "allow_duplicate",
        lambda: parse_bool(raw.allow_duplicate, "allow_duplicate", default=False),
    )
    tags: ImageTags | None = None
    consent: ConsentAnswers | None = None
    finding_id: int | None = None
    title = ""
    if kind.is_image:
        tags = _tags(raw, problems)
        finding_id = problems.check("finding", lambda: parse_finding_id(raw.finding))
        if consent_record is None:
            consent = _consent(raw, problems)
    elif kind is ObjectKind.DOCUMENT:
        title = _title(raw, problems)
    if problems.errors or capture_id is None or allow_duplicate is None:
        summary = "; ".join(problems.errors.values()) or "the submission is incomplete"
        raise InvalidInput(f"The {kind.label} was not stored: {summary}.", errors=problems.errors)
    return CaptureCommand(
        kind=kind,
        source=source,
        patient=patient,
        capture_id=capture_id,
        session_id=session_id,
        taken=taken,
        consent=consent_record[1] if consent_record is not None else consent,
        consent_record_id=consent_record[0] if consent_record is not None else None,
        tags=tags,
        finding_id=finding_id,
        title=title,
        allow_duplicate=allow_duplicate,
    )


def _capture_id(raw: CaptureFields, kind: ObjectKind) -> str:
    if raw.capture_id and raw.capture_id.strip():
        return parse_uuid(raw.capture_id, "capture_id")
    if kind is ObjectKind.DOCUMENT:
        raise ValueError("capture_id is required (a UUID made per file)")
    return str(uuid.uuid4())


def _taken(raw: CaptureFields, now: datetime) -> TakenAt | None:
    """The moment the client gives, with where it says it came from; None: not given."""
    if raw.captured_at is None or not raw.captured_at.strip():
        return None
    moment = parse_captured_at(raw.captured_at, now)
    said = (raw.captured_at_source or "").strip().lower() or TakenAtSource.DEVICE.value
    try:
        source = TakenAtSource(said)
    except ValueError:
        source = None
    if source not in CLIENT_TIME_SOURCES:
        choices = ", ".join(sorted(s.value for s in CLIENT_TIME_SOURCES))
        raise ValueError(f"captured_at_source must be one of {choices}, got {said[:20]!r}")
    assert source is not None
    return TakenAt(moment, source)


def _tags(raw: CaptureFields, problems: _Problems) -> ImageTags | None:
    site: BodySite | None = None
    if not (raw.body_site or "").strip():
        problems.errors["body_site"] = (
            "body_site (a SNOMED CT code from GET /api/v1/body-sites) is required"
        )
    else:
        site = problems.check("body_site", lambda: body_site(raw.body_site or ""))
    asked = problems.check("laterality", lambda: parse_laterality(raw.laterality))
    laterality = None
    if site is not None and "laterality" not in problems.errors:
        laterality = problems.check("laterality", lambda: site.laterality_for(asked))
    asked_aspect = problems.check("aspect", lambda: parse_aspect(raw.aspect))
    aspect = None
    if site is not None and "aspect" not in problems.errors:
        aspect = problems.check("aspect", lambda: site.aspect_for(asked_aspect))
    view = problems.check("view", lambda: View.parse(raw.view))
    description = " ".join((raw.description or "").split())
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.errors["description"] = (
            f"description is longer than {MAX_DESCRIPTION_LENGTH} characters"
        )
    sensitive = problems.check(
        "sensitive", lambda: parse_bool(raw.sensitive, "sensitive", default=False)
    )
    recognizable = problems.check(
        "recognizable",
        lambda: (
            None
            if not (raw.recognizable or "").strip()
            else parse_bool(raw.recognizable, "recognizable", default=False)
        ),
    )
    if (
        site is None
        or laterality is None
        or sensitive is None
        or {"recognizable", "aspect"} & problems.errors.keys()
    ):
        return None
    return ImageTags(
        site=site,
        laterality=laterality,
        aspect=aspect,
        view=view,
        description=description,
        sensitive=sensitive or site.intimate,
        recognizable=site.identifying if recognizable is None else recognizable,
    )


def _consent(raw: CaptureFields, problems: _Problems) -> ConsentAnswers | None:
    """The four consent answers, every one asked for; a declined clinical record is refused
    at once (nothing else matters then)."""
    try:
        answers = read_consent_answers({name: getattr(raw, name) for name in CONSENT_FIELDS})
    except ConsentUnanswered as exc:
        problems.errors.update(exc.errors)
        return None
    if answers.declined:
        raise ConsentRequired(
            "The patient has not consented to photographs for the clinical record, so this "
            "photo cannot be stored."
        )
    return answers


def _title(raw: CaptureFields, problems: _Problems) -> str:
    title = " ".join((raw.title or "").split())
    if not title:
        problems.errors["title"] = "give the document a title, such as 'Consent form'"
    elif len(title) > MAX_TITLE_LENGTH or "\\" in title:
        problems.errors["title"] = (
            f"a title has at most {MAX_TITLE_LENGTH} characters and no backslash"
        )
    return title
