"""Helpers every page controller shares: htmx detection, safe redirects, the patient in context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request
from litestar.response import Template
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.db.models import Patient
from pointcare.domain.patients import PatientIdentity
from pointcare.errors import NotFound
from pointcare.identity.directory import find_by_mrn, identity_of, same_name_exists
from pointcare.runtime import Runtime

HOME = "/"


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    name: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Template:
    return Template(template_name=name, context=context, status_code=status, headers=headers)


def fragment(name: str, *, target: str, status: int = 200, **context: Any) -> Template:
    """An htmx answer that replaces the element ``#target``, whatever its status.

    The htmx config in base.html sends 4xx/5xx answers to the page's alert area; a form that
    comes back with field errors must replace itself instead, so it names its target here.
    """
    headers = {"HX-Retarget": f"#{target}", "HX-Reswap": "outerHTML"}
    return page(name, status=status, headers=headers, **context)


def safe_next(raw: str | None) -> str:
    """Where to go after sign-in: a path on this site, never another origin.

    "//host" and "/\\host" are refused because browsers read both as another host.
    """
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return HOME
    if any(ch < " " or ch == "\x7f" for ch in raw):
        return HOME
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return HOME
    return raw


@dataclass(frozen=True, slots=True)
class PatientUrls:
    """Where a patient's pages are. Every URL names the issuer too: an MRN alone may be held by
    several issuers, and a page must never have to guess whose photos it shows."""

    mrn: str
    issuer: str

    @classmethod
    def of(cls, patient: Patient | PatientIdentity) -> PatientUrls:
        return cls(patient.mrn, patient.issuer)

    def _path(self, suffix: str) -> str:
        return f"/patients/{quote(self.mrn, safe='')}{suffix}?issuer={quote(self.issuer, safe='')}"

    @property
    def review(self) -> str:
        return self._path("")

    @property
    def capture(self) -> str:
        return self._path("/capture")

    @property
    def upload(self) -> str:
        """Add images from the desk."""
        return self._path("/upload")

    @property
    def export(self) -> str:
        return self._path("/export")

    @property
    def photos(self) -> str:
        """Where the capture form sends photos."""
        return self._path("/photos")

    def photo(self, sop_instance_uid: str) -> str:
        return self._path(f"/photos/{quote(sop_instance_uid, safe='')}")

    def break_glass(self, back_to: str | None = None) -> str:
        """The "break the glass" step for sensitive photos; back to ``back_to`` afterwards."""
        back = f"&next={quote(back_to, safe='')}" if back_to else ""
        return self._path("/break-glass") + back

    def compare(self, sop_instance_uid: str) -> str:
        """This photo beside the latest others of the same site and side."""
        return self._path("/compare") + f"&photo={quote(sop_instance_uid, safe='')}"

    def document(self, sop_instance_uid: str) -> str:
        """A stored PDF, opened in the browser."""
        return self._path(f"/documents/{quote(sop_instance_uid, safe='')}")

    def correct(self, sop_instance_uid: str) -> str:
        """The correction form of one photo."""
        return self._path(f"/photos/{quote(sop_instance_uid, safe='')}/correct")

    def consent(self, sop_instance_uid: str | None = None) -> str:
        """The consent page: for one photo, or for all of the patient's photos."""
        photo = f"&photo={quote(sop_instance_uid, safe='')}" if sop_instance_uid else ""
        return self._path("/consent") + photo


@dataclass(frozen=True, slots=True)
class PatientContext:
    """The patient a page is about, as the banner shows them."""

    patient: Patient
    identity: PatientIdentity
    same_name: bool
    """Another patient has the same name: the banner warns to check birth date and MRN."""

    @property
    def urls(self) -> PatientUrls:
        return PatientUrls.of(self.patient)

    def as_context(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "identity": self.identity,
            "same_name": self.same_name,
            "urls": self.urls,
        }


def record_opened(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    context: PatientContext,
    *,
    page: str,
    listed: Sequence[str] = (),
) -> None:
    """Audit a page that shows a patient (and the photos it lists: one event for the list)."""
    actor = audit.actor_of(request, request.user)
    audit.record_now(
        runtime.db, *audit.patient_opened(actor, context.patient, page=page, listed=listed)
    )


def load_patient(session: Session, mrn: str, issuer: str | None = None) -> PatientContext:
    patient = find_by_mrn(session, mrn, issuer or None)
    if patient is None:
        raise NotFound(
            f"No patient with MRN {mrn} is known. Check the wristband, or search by name "
            "and birth date."
        )
    return PatientContext(patient, identity_of(patient), same_name_exists(session, patient))


def clock_label(seconds: int) -> str:
    """``1:00`` for 60 seconds: the clip limit as the recorder's running time shows it."""
    return f"{seconds // 60}:{seconds % 60:02d}"
