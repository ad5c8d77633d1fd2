"""Server-rendered pages (Jinja + htmx): sign-in, find patient, capture, review."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from pointcare.web.pages.admin import deliveries_page, retry_all_parked, retry_one_parked
from pointcare.web.pages.capture import capture_by_query, capture_page, capture_photo
from pointcare.web.pages.home import home
from pointcare.web.pages.login import sign_in, sign_in_page, sign_out
from pointcare.web.pages.review import pacs_studies, pacs_study_thumbnail, photo_page, review_page

PAGE_ROUTES: list[ControllerRouterHandler] = [
    sign_in_page,
    sign_in,
    sign_out,
    home,
    capture_by_query,
    capture_page,
    capture_photo,
    review_page,
    photo_page,
    pacs_studies,
    pacs_study_thumbnail,
]

# Admin: deliveries to the PACS.
PAGE_ROUTES += [deliveries_page, retry_all_parked, retry_one_parked]
