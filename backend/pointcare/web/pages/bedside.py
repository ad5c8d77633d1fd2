"""The bedside flow: scan the wristband, confirm the patient, record consent, capture, summary.

Each step is a page of its own, and each step after the confirmation works on a bedside session
(``pointcare.bedside``) that only its user can open: the patient and the consent of every photo
come from the session, never from what the capture screen sends.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.principal import Principal
from pointcare.auth.sessions import lock_session, unlock_session
from pointcare.bedside.sessions import (
    capture_consent,
    confirmation_key,
    consent_answers,
    end_session,
    load_session,
    open_session,
    recent_sites,
    record_consent,
    stored_photos,
)
from pointcare.capture.command import ConfirmedPatient, Source
from pointcare.db.models import BedsideSession, Finding, Instance
from pointcare.domain.body_sites import BODY_SITES
from pointcare.domain.consent import (
    CONSENT_FIELDS,
    DECLINED,
    ConsentAnswers,
    ConsentMethod,
    ConsentUnanswered,
    read_consent_answers,
)
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import View
from pointcare.errors import (
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from pointcare.findings.service import open_findings
from pointcare.identity.directory import find_by_mrn, identity_of, same_name_exists
from pointcare.launch.binding import check_may_open
from pointcare.runtime import Runtime
from pointcare.web.forms import CaptureForm, capture, command_of
from pointcare.web.limits import CLIP_UPLOAD_ROUTE, UPLOAD_ROUTE
from pointcare.web.pages.common import (
    PatientContext,
    PatientUrls,
    clock_label,
    fragment,
    is_htmx,
    load_patient,
    page,
    safe_next,
)
from pointcare.web.pages.home import search_patients
from pointcare.web.pages.login import check_own_password
from pointcare.web.problems import UNLOCK_URL, lock_page
from pointcare.web.security import OPEN_WHILE_LOCKED

SCAN_URL = "/bedside"
LOCK_URL = "/bedside/lock"
FIND = "bedside-find"


def confirm_url(mrn: str, issuer: str) -> str:
    return "/bedside/confirm?" + urlencode({"mrn": mrn, "issuer": issuer})


def session_url(session_id: str, suffix: str = "") -> str:
    return f"/bedside/sessions/{quote(session_id, safe='')}{suffix}"


# --- What the pages show ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentSummary:
    """The session's consent in the clinic's words."""

    clinical_record: bool
    teaching: bool
    publication: bool
    method: ConsentMethod
    recorded_by: str
    recorded_at: datetime | None

    @property
    def scopes(self) -> str:
        """'Clinical record and teaching', 'Clinical record only', 'Declined'."""
        if not self.clinical_record:
            return "Declined"
        extra = [
            name
            for name, given in (("teaching", self.teaching), ("publication", self.publication))
            if given
        ]
        return "Clinical record" + (" and " + " and ".join(extra) if extra else " only")


@dataclass(frozen=True, slots=True)
class BedsideView:
    """The session as the capture screen shows it."""

    id: str
    encounter: str | None
    started_at: datetime
    consent: ConsentSummary | None


def _view(record: BedsideSession) -> BedsideView:
    answers = consent_answers(record)
    summary = None
    if answers is not None and record.consent is not None:
        summary = ConsentSummary(
            answers.clinical_record,
            answers.teaching,
            answers.publication,
            answers.method,
            record.consent.recorded_by.display_name,
            record.consent.recorded_at,
        )
    return BedsideView(record.id, record.encounter, record.started_at, summary)


def _patient_context(db: Session, record: BedsideSession) -> PatientContext:
    patient = record.patient
    return PatientContext(patient, identity_of(patient), same_name_exists(db, patient))


def _load(db: Session, runtime: Runtime, principal: Principal, session_id: str) -> BedsideSession:
    return load_session(db, session_id, principal, max_age=runtime.session_policy.absolute)


# --- Scan and search --------------------------------------------------------------------------


@get(SCAN_URL, sync_to_thread=True, include_in_schema=False)
def bedside_scan(
    request: Request[Any, Any, Any],
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    mrn: FromQuery[str | None] = None,
    name: FromQuery[str | None] = None,
    birth_date: FromQuery[str | None] = None,
) -> Response[Any]:
    """The viewfinder, with typed MRN and name + birth date search below it.

    A typed MRN that names one patient goes straight to the confirmation card. A search is
    audited, and (for a session opened from the EHR) lets the patients it found be opened."""
    query = search_patients(
        request, db, runtime, mrn=mrn, name=name, birth_date=birth_date, via="bedside"
    )
    if query.mrn and not query.errors and len(query.results) == 1:
        identity, _urls = query.results[0]
        target = confirm_url(identity.mrn, identity.issuer)
        if is_htmx(request):
            return Response(content=b"", status_code=200, headers={"HX-Redirect": target})
        return Redirect(target, status_code=303)
    results = [
        (identity, confirm_url(identity.mrn, identity.issuer)) for identity, _ in query.results
    ]
    status = 422 if query.errors else 200
    context: dict[str, Any] = {"query": query, "results": results}
    if is_htmx(request):
        return fragment("partials/_bedside_find.html", target=FIND, status=status, **context)
    return page("pages/bedside_scan.html", status=status, **context)


# --- Confirm ----------------------------------------------------------------------------------


@get("/bedside/confirm", sync_to_thread=True, include_in_schema=False)
def bedside_confirm(
    db: NamedDependency[Session],
    mrn: FromQuery[str] = "",
    issuer: FromQuery[str | None] = None,
) -> Response[Any]:
    """The confirmation card: two identifiers large, then sex, MRN and the current encounter."""
    if not mrn.strip():
        return Redirect(SCAN_URL, status_code=303)
    context = load_patient(db, mrn.strip(), issuer)
    return page(
        "pages/bedside_confirm.html",
        **context.as_context(),
        confirmation=confirmation_key(context.patient),
    )


@dataclass
class OpenForm:
    mrn: str = ""
    issuer: str = ""
    confirmation: str = ""


@post("/bedside/sessions", sync_to_thread=True, include_in_schema=False)
def bedside_open(
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    data: Annotated[OpenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """ "This is the patient": open a session for exactly the identity the card showed."""
    if not data.mrn.strip():
        raise InvalidInput(
            "No patient was chosen. Scan the wristband or search for the patient.",
            errors={"mrn": "required"},
        )
    with runtime.db.write() as db:
        patient = find_by_mrn(db, data.mrn, data.issuer or None)
        if patient is None:
            raise NotFound(f"No patient with MRN {data.mrn.strip()} is known. Scan again.")
        # The MRN comes in the form body, out of reach of the launch-binding guard: check here.
        check_may_open(db, principal, patient)
        record = open_session(db, principal, patient, confirmation=data.confirmation)
        session_id = record.id
    return Redirect(session_url(session_id, "/consent"), status_code=303)


# --- Consent ----------------------------------------------------------------------------------


@dataclass
class ConsentForm:
    consent_clinical: str = ""
    consent_teaching: str = ""
    consent_publication: str = ""
    consent_method: str = ""


def _answers(form: ConsentForm) -> ConsentAnswers:
    """The form's answers, or ``InvalidInput`` naming every question left or answered wrongly."""
    try:
        return read_consent_answers({name: getattr(form, name) for name in CONSENT_FIELDS})
    except ConsentUnanswered as exc:
        raise InvalidInput("The consent was not recorded.", errors=exc.errors) from None


def _consent_page(
    db: Session,
    record: BedsideSession,
    principal: Principal,
    *,
    form: ConsentForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[Any]:
    view = _view(record)
    if form is None:  # the answers recorded before, or none: nothing is answered for the user
        consent = view.consent
        form = ConsentForm(
            consent_clinical=_yes_no(consent.clinical_record) if consent else "",
            consent_teaching=_yes_no(consent.teaching) if consent else "",
            consent_publication=_yes_no(consent.publication) if consent else "",
            consent_method=consent.method.value if consent else "",
        )
    return page(
        "pages/bedside_consent.html",
        status=status,
        **_patient_context(db, record).as_context(),
        bedside=view,
        form=form,
        errors=errors or {},
        declined=view.consent is not None and not view.consent.clinical_record,
        declined_message=DECLINED,
        methods=list(ConsentMethod),
        recorder=principal.display_name or principal.username,
        consent_url=session_url(record.id, "/consent"),
        end_url=session_url(record.id, "/end"),
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _show_consent(runtime: Runtime, principal: Principal, session_id: str) -> Response[Any]:
    with runtime.db.session() as db:
        return _consent_page(db, _load(db, runtime, principal, session_id), principal)


# Async, with the work in a thread: a sync_to_thread GET that shares its path with a POST is
# wrapped twice by Litestar 2.x (it then returns an un-awaited coroutine).
@get("/bedside/sessions/{session_id:str}/consent", include_in_schema=False)
async def bedside_consent(
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
) -> Response[Any]:
    return await anyio.to_thread.run_sync(_show_consent, runtime, principal, session_id)


@post("/bedside/sessions/{session_id:str}/consent", sync_to_thread=True, include_in_schema=False)
def bedside_record_consent(
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
    data: Annotated[ConsentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Record the answers; declined clinical record: back to this page, which says why."""
    with runtime.db.write() as db:
        record = _load(db, runtime, principal, session_id)
        try:
            answers = _answers(data)
        except InvalidInput as exc:
            return _consent_page(db, record, principal, form=data, errors=exc.errors, status=422)
        record_consent(db, record, principal, answers)
        record_id = record.id
    target = "/consent" if not answers.clinical_record else ""
    return Redirect(session_url(record_id, target), status_code=303)


# --- Capture ----------------------------------------------------------------------------------


@get("/bedside/sessions/{session_id:str}", sync_to_thread=True, include_in_schema=False)
def bedside_capture(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
) -> Response[Any]:
    """The camera screen, once consent allows it; before that, the consent step."""
    record = _load(db, runtime, principal, session_id)
    answers = consent_answers(record)
    if answers is None or not answers.clinical_record:
        return Redirect(session_url(record.id, "/consent"), status_code=303)
    return page(
        "pages/bedside_capture.html",
        **_patient_context(db, record).as_context(),
        bedside=_view(record),
        body_sites=BODY_SITES,
        views=list(View),
        recent_sites=recent_sites(db, record.patient_id),
        findings=open_findings(db, record.patient),
        idle_lock_seconds=runtime.settings.idle_lock_seconds,
        photos_url=session_url(record.id, "/photos"),
        clips_url=session_url(record.id, "/clips"),
        clip_limit_seconds=runtime.settings.video_max_seconds,
        clip_limit_label=clock_label(runtime.settings.video_max_seconds),
        summary_url=session_url(record.id, "/summary"),
        unlock_url=UNLOCK_URL,
        lock_url=LOCK_URL,
        scan_url=SCAN_URL,
    )


@dataclass(frozen=True, slots=True)
class _Context:
    """What a photo takes from its session: the patient confirmed, the consent recorded."""

    patient: ConfirmedPatient
    session_id: str
    consent: tuple[int, ConsentAnswers]


def _photo_context(runtime: Runtime, principal: Principal, session_id: str) -> _Context:
    with runtime.db.session() as db:
        record = _load(db, runtime, principal, session_id)
        consent, answers = capture_consent(record)
        patient = ConfirmedPatient(mrn=record.patient.mrn, issuer=record.patient.issuer)
        return _Context(patient, record.id, (consent.id, answers))


def _stored_label(runtime: Runtime, sop_instance_uid: str) -> str:
    """Where the photo was taken, and the wound or lesion it is filed under: "Sacrum, Wound 1"."""
    with runtime.db.session() as db:
        instance = db.scalar(select(Instance).where(Instance.sop_instance_uid == sop_instance_uid))
        if instance is None:  # pragma: no cover - it was stored a moment ago
            return ""
        where = instance.where
        finding = db.get(Finding, instance.finding_id) if instance.finding_id else None
        return f"{where}, {finding.label}" if finding else where


# Open while locked: photos queued before the screen locked may finish sending.
@post(
    "/bedside/sessions/{session_id:str}/photos",
    include_in_schema=False,
    opt={**UPLOAD_ROUTE, **OPEN_WHILE_LOCKED},
)
async def bedside_photo(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[Any]:
    """Store one photo of the session's patient, under the session's consent record: the
    patient and consent come from the session, never from what the capture screen sends (same
    command as the API: 201 new, 200 a retry of the same ``capture_id``, problem JSON
    otherwise)."""
    return await _store_in_session(request, runtime, principal, session_id, data, ObjectKind.PHOTO)


@post(
    "/bedside/sessions/{session_id:str}/clips",
    include_in_schema=False,
    opt={**CLIP_UPLOAD_ROUTE, **OPEN_WHILE_LOCKED},
)
async def bedside_clip(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
    data: Annotated[CaptureForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Response[Any]:
    """Store one video clip of the session's patient, as the photos are (its own body size
    limit: ``POINTCARE_VIDEO_MAX_BYTES``)."""
    return await _store_in_session(request, runtime, principal, session_id, data, ObjectKind.VIDEO)


async def _store_in_session(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    principal: Principal,
    session_id: str,
    data: CaptureForm,
    kind: ObjectKind,
) -> Response[Any]:
    context = await anyio.to_thread.run_sync(_photo_context, runtime, principal, session_id)
    command = command_of(
        data,
        kind=kind,
        source=Source.BEDSIDE,
        patient=context.patient,
        consent_record=context.consent,
        session_id=context.session_id,
    )
    stored = await capture(
        runtime, principal, data, command, actor=audit.actor_of(request, principal)
    )
    label = await anyio.to_thread.run_sync(_stored_label, runtime, stored.sop_instance_uid)
    body = {
        "capture_id": stored.capture_id,
        "sop_instance_uid": stored.sop_instance_uid,
        "study_instance_uid": stored.study_instance_uid,
        "created": stored.created,
        "body_site_label": label,
    }
    return Response(
        content=body,
        status_code=201 if stored.created else 200,
        headers={"Cache-Control": "no-store"},
    )


CLIP_ROUTES = [bedside_clip]
"""Routes that take video clips: registered with their own request size limit."""


def counted_words(stored: Sequence[Instance]) -> str:
    """ "3 photos", "2 photos and 1 video clip": what a session stored, in words."""
    clips = sum(1 for instance in stored if instance.object_kind is ObjectKind.VIDEO)
    photos = len(stored) - clips
    parts = [f"{photos} photo{'s' if photos != 1 else ''}"] if photos else []
    parts += [f"{clips} video clip{'s' if clips != 1 else ''}"] if clips else []
    return " and ".join(parts)


# --- Summary and the end of a session ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSite:
    label: str
    count: int


@get("/bedside/sessions/{session_id:str}/summary", sync_to_thread=True, include_in_schema=False)
def bedside_summary(
    db: NamedDependency[Session],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
) -> Response[Any]:
    """What this session stored: how many photos, of which sites, in which study."""
    record = _load(db, runtime, principal, session_id)
    photos = stored_photos(db, record)
    counts = Counter(p.where for p in photos)
    studies = list({p.study.study_instance_uid: p.study for p in photos}.values())
    context = _patient_context(db, record)
    return page(
        "pages/bedside_summary.html",
        **context.as_context(),
        bedside=_view(record),
        count=len(photos),
        stored_words=counted_words(photos),
        sites=[StoredSite(label, count) for label, count in counts.items()],
        studies=studies,
        capture_url=session_url(record.id),
        end_url=session_url(record.id, "/end"),
        review_url=PatientUrls.of(record.patient).review if principal.role.can_review else None,
    )


@post("/bedside/sessions/{session_id:str}/end", sync_to_thread=True, include_in_schema=False)
def bedside_end(
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    session_id: FromPath[str],
) -> Response[Any]:
    """ "Next patient": end the session (its id opens nothing any more) and scan again."""
    with runtime.db.write() as db:
        end_session(db, _load(db, runtime, principal, session_id))
    return Redirect(SCAN_URL, status_code=303)


# --- Idle lock ----------------------------------------------------------------------------------


async def _password(request: Request[Any, Any, Any]) -> tuple[str, str | None]:
    """The ``password`` of a JSON body or a form, and the form's ``next`` page when it came
    from the lock page (no script); ``InvalidInput`` when there is no password."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    value: object = None
    target: object = None
    if media_type == "application/json":
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        value = body.get("password") if isinstance(body, dict) else None
    elif media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        value, target = form.get("password"), form.get("next")
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            "Type your password to unlock.", errors={"password": "a password is required"}
        )
    return value, target if isinstance(target, str) else None


@post(LOCK_URL, include_in_schema=False, status_code=204, opt=OPEN_WHILE_LOCKED)
async def bedside_lock(
    runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> Response[None]:
    """The capture screen locked itself: the server holds the lock, so that a reload (or any
    other page) shows the lock, not the patient, until the password is typed."""
    if principal.session_id is None:
        raise InvalidInput("Only a signed-in browser has a screen to lock.")
    await anyio.to_thread.run_sync(_lock, runtime, principal.session_id)
    return Response(content=None, status_code=204, headers={"Cache-Control": "no-store"})


def _lock(runtime: Runtime, session_id: int) -> None:
    with runtime.db.write() as db:
        lock_session(db, session_id)


@post(UNLOCK_URL, include_in_schema=False, opt=OPEN_WHILE_LOCKED)  # 204 or 303, below
async def bedside_unlock(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> Response[Any]:
    """204 when ``password`` is the signed-in user's own (the session unlocked; a form sent
    without script goes back to its ``next`` page); 401 otherwise (a failed sign-in for the
    lockout: 429 once locked)."""
    password, target = await _password(request)
    try:
        await anyio.to_thread.run_sync(check_own_password, request, runtime, principal, password)
    except (NotAuthenticated, TooManyAttempts) as exc:
        if target is None:
            raise
        return lock_page(safe_next(target), exc)  # the lock page again, saying what went wrong
    if principal.session_id is not None:
        await anyio.to_thread.run_sync(_unlock, runtime, principal.session_id)
    if target is not None:
        return Redirect(safe_next(target), status_code=303)
    return Response(content=None, status_code=204, headers={"Cache-Control": "no-store"})


def _unlock(runtime: Runtime, session_id: int) -> None:
    with runtime.db.write() as db:
        unlock_session(db, session_id)


BEDSIDE_ROUTES = [
    bedside_scan,
    bedside_confirm,
    bedside_open,
    bedside_consent,
    bedside_record_consent,
    bedside_capture,
    bedside_photo,
    bedside_summary,
    bedside_end,
    bedside_lock,
    bedside_unlock,
]

__all__ = ["BEDSIDE_ROUTES", "CLIP_ROUTES", "confirm_url", "session_url"]
