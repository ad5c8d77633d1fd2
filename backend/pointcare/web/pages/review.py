"""Review: a patient's photos by date, and one photo large with its record (clinicians, admins)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.orm import Session

from pointcare.web.pages.common import load_patient, page
from pointcare.web.pages.gallery import photo_days, photo_detail
from pointcare.web.security import REVIEW


@get("/patients/{mrn:str}", guards=[REVIEW], sync_to_thread=True, include_in_schema=False)
def review_page(
    db: NamedDependency[Session], mrn: FromPath[str], issuer: FromQuery[str | None] = None
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    days = photo_days(db, context.patient)
    return page(
        "pages/review.html",
        **context.as_context(),
        days=days,
        photo_count=sum(len(day.photos) for day in days),
    )


@get(
    "/patients/{mrn:str}/photos/{sop:str}",
    guards=[REVIEW],
    sync_to_thread=True,
    include_in_schema=False,
)
def photo_page(
    db: NamedDependency[Session],
    mrn: FromPath[str],
    sop: FromPath[str],
    issuer: FromQuery[str | None] = None,
    show: FromQuery[bool] = False,
) -> Response[Any]:
    context = load_patient(db, mrn, issuer)
    detail = photo_detail(db, context.patient, sop)
    return page("pages/photo.html", **context.as_context(), photo=detail, show=show)
