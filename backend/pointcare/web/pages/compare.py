"""Compare: two to four photos side by side, with their dates, zoomed and panned together.

How wound healing is followed: by default the photo asked for and the latest other photos of
the same finding (the same wound or lesion) when the photo is filed under one, else of the same
site and side, and of the same view, oldest first, each labelled with its date and the days
since the first.
A sensitive photo shows only once the user broke the glass for the patient; until then a
placeholder says how.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, joinedload

from pointcare.access import glass
from pointcare.auth.principal import Principal
from pointcare.corrections.visibility import images_in_force
from pointcare.db.models import Instance, Patient
from pointcare.domain.objects import ObjectKind
from pointcare.domain.views import view_label
from pointcare.errors import InvalidInput
from pointcare.runtime import Runtime
from pointcare.web.pages.common import load_patient, page, record_opened
from pointcare.web.pages.gallery import dicomweb_url
from pointcare.web.security import REVIEW

MAX_PANES = 4
_SHOWN = (joinedload(Instance.study), joinedload(Instance.series), joinedload(Instance.finding))
"""What each pane shows of its photo, loaded with it."""
SCREEN_VIEWPORT = "1600,1600"
"""What each pane loads first: enough for a screen; full resolution comes when zoomed in."""


@dataclass(frozen=True, slots=True)
class Pane:
    instance: Instance
    where: str
    view: str
    finding: str
    """The wound or lesion it is filed under; empty for none."""
    taken: datetime
    days_since_first: int
    screen_url: str
    full_url: str
    href: str
    sealed: bool
    """A sensitive photo this user has not broken the glass for: not shown here."""


def compare_set(
    session: Session, patient: Patient, sop_uids: list[str], *, any_view: bool = False
) -> list[Instance]:
    """The photos to compare, oldest first: those named (2 to 4), or the one named with the
    latest other photos of the same finding (when it is filed under one, else of the same site
    and side) and view (up to 4 in all; with ``any_view``, of every view: a close-up beside
    overviews only when asked for). Video clips are played on their own page, never compared."""
    wanted = list(dict.fromkeys(uid for uid in sop_uids if uid))
    if not wanted:
        raise InvalidInput("Choose a photo to compare.", errors={"photo": "none chosen"})
    if len(wanted) > MAX_PANES:
        raise InvalidInput(
            f"Compare at most {MAX_PANES} photos at a time.", errors={"photo": "too many"}
        )
    mine = (
        Instance.patient_id == patient.id,
        images_in_force(),
        Instance.kind != ObjectKind.VIDEO.value,
    )
    found = list(
        session.scalars(
            select(Instance).where(*mine, Instance.sop_instance_uid.in_(wanted)).options(*_SHOWN)
        )
    )
    if len(found) != len(wanted):
        raise InvalidInput(
            "Some chosen photos are not in this patient's record.", errors={"photo": "not found"}
        )
    if len(found) == 1:
        (anchor,) = found
        same = (
            (Instance.finding_id == anchor.finding_id,)
            if anchor.finding_id is not None
            else (
                Instance.body_site_code == anchor.body_site_code,
                Instance.laterality == anchor.laterality,
                # The back of a thigh is not compared with its front; a photo whose face was
                # not stated may show either.
                or_(Instance.aspect == anchor.aspect, Instance.aspect.is_(None))
                if anchor.aspect
                else true(),
            )
        )
        found += list(
            session.scalars(
                select(Instance)
                .where(
                    *mine,
                    *same,
                    true() if any_view else Instance.view.is_not_distinct_from(anchor.view),
                    Instance.id != anchor.id,
                    Instance.sensitive.is_(False),
                )
                .options(*_SHOWN)
                .order_by(Instance.captured_at.desc(), Instance.id.desc())
                .limit(MAX_PANES - 1)
            )
        )
    return sorted(found, key=lambda instance: (instance.captured_at, instance.id))


@get("/patients/{mrn:str}/compare", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def compare_page(
    request: Request[Principal, Any, Any],
    runtime: NamedDependency[Runtime],
    db: NamedDependency[Session],
    mrn: FromPath[str],
    issuer: FromQuery[str | None] = None,
    photo: FromQuery[list[str] | None] = None,
    views: FromQuery[str] = "same",
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    any_view = views == "any"
    chosen = compare_set(db, context.patient, photo or [], any_view=any_view)
    first = chosen[0].taken_at.date()
    uids = [instance.sop_instance_uid for instance in chosen]
    sealed = glass.sealed_uids(db, request.user.user_id, uids)
    record_opened(request, runtime, context, page="compare", listed=uids)
    panes = [
        Pane(
            instance=instance,
            where=instance.where,
            view=view_label(instance.view),
            finding=instance.finding_label,
            taken=instance.taken_at,
            days_since_first=(instance.taken_at.date() - first).days,
            screen_url=f"{dicomweb_url(instance, 'rendered')}?viewport={SCREEN_VIEWPORT}",
            full_url=dicomweb_url(instance, "rendered"),
            href=context.urls.photo(instance.sop_instance_uid),
            sealed=instance.sop_instance_uid in sealed,
        )
        for instance in chosen
    ]
    one = photo[0] if photo and len(photo) == 1 else None
    return page(
        "pages/compare.html",
        **context.as_context(),
        panes=panes,
        any_view=any_view,
        other_views_url=(context.urls.compare(one) + "&views=any")
        if one and not any_view
        else None,
        same_view_url=context.urls.compare(one) if one and any_view else None,
    )
