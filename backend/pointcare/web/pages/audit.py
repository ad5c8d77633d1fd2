"""Admin: search the audit trail by patient, user, action and time; see whether the chain holds.

A plain GET form (bookmarkable, works without JS). Bad filters answer 422 with the form and a
message beside the field; reading the trail is itself audited ("audit log used").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.audit.reading import AuditPage, AuditQuery, search, verify_chain
from pointcare.auth.principal import Principal
from pointcare.runtime import Runtime
from pointcare.web.pages.common import page
from pointcare.web.security import ADMIN

AUDIT = "/admin/audit"
PER_PAGE = 50
TIME_FORMATS = "a date (2026-05-04) or a date and time (2026-05-04T08:30), in UTC"


@dataclass
class AuditFilters:
    """The form as typed, and what is wrong with it."""

    patient: str = ""
    username: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    page: str = "1"
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> tuple[AuditQuery | None, int]:
        """The search these filters ask for (None when one is wrong: see ``errors``)."""
        action = None
        if self.action:
            try:
                action = audit.AuditAction(self.action)
            except ValueError:
                self.errors["action"] = "Choose an action from the list."
        since = self._time("since", end_of_day=False)
        until = self._time("until", end_of_day=True)
        number = self._page()
        if self.errors:
            return None, 1
        try:
            query = AuditQuery(
                patient_mrn=self.patient or None,
                username=self.username or None,
                action=action,
                since=since,
                until=until,
            )
        except ValueError:
            self.errors["until"] = "The end of the time range must be after its start."
            return None, 1
        return query, number

    def _time(self, name: str, *, end_of_day: bool) -> datetime | None:
        raw = getattr(self, name)
        if not raw:
            return None
        try:
            if len(raw) == len("2026-05-04"):
                day = date.fromisoformat(raw)
                start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                # "Until 4 May" includes the whole of 4 May.
                return start + timedelta(days=1) if end_of_day else start
            moment = datetime.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"Type {TIME_FORMATS}."
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def _page(self) -> int:
        try:
            number = int(self.page or "1")
        except ValueError:
            number = 0
        if not 1 <= number <= 1_000_000:
            self.errors["page"] = "The page number must be a whole number from 1."
            return 1
        return number

    def link(self, number: int) -> str:
        """This search, on another page."""
        params = {
            key: value
            for key, value in (
                ("patient", self.patient),
                ("username", self.username),
                ("action", self.action),
                ("since", self.since),
                ("until", self.until),
            )
            if value
        }
        params["page"] = str(number)
        return f"{AUDIT}?{urlencode(params)}"

    @property
    def filtered(self) -> bool:
        return any((self.patient, self.username, self.action, self.since, self.until))


@get(AUDIT, guards=[ADMIN], sync_to_thread=True, include_in_schema=False)
def audit_page(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    patient: FromQuery[str] = "",
    username: FromQuery[str] = "",
    action: FromQuery[str] = "",
    since: FromQuery[str] = "",
    until: FromQuery[str] = "",
    page_number: Annotated[str, QueryParameter(name="page")] = "1",
) -> Response[Any]:
    filters = AuditFilters(
        patient=patient.strip(),
        username=username.strip(),
        action=action.strip(),
        since=since.strip(),
        until=until.strip(),
        page=page_number.strip(),
    )
    query, number = filters.query()
    found: AuditPage | None = None
    if query is not None:
        found = search(db, query, page=number, per_page=PER_PAGE)
        _record_search(request, runtime, filters, found)
    status = verify_chain(db)
    return page(
        "pages/admin_audit.html",
        status=422 if filters.errors else 200,
        filters=filters,
        found=found,
        chain=status,
        actions=list(audit.AuditAction),
        headers={"Cache-Control": "no-store"},
    )


def _record_search(
    request: Request[Principal, Any, Any], runtime: Runtime, filters: AuditFilters, found: AuditPage
) -> None:
    event = audit.AuditEvent(
        action=audit.AuditAction.AUDIT_SEARCHED,
        actor=audit.actor_of(request, request.user),
        patient=audit.PatientRef(mrn=filters.patient) if filters.patient else None,
        details={
            "username": filters.username or None,
            "action": filters.action or None,
            "since": filters.since or None,
            "until": filters.until or None,
            "page": found.page,
            "results": found.total,
        },
    )
    audit.record_now(runtime.db, event)
