"""Server-rendered pages (Jinja + htmx): sign-in, find patient, capture, review."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from pointcare.web.pages.account import (
    account_page,
    change_password,
    password_page,
    sign_out_everywhere,
)
from pointcare.web.pages.admin import deliveries_page, retry_all_parked, retry_one_parked
from pointcare.web.pages.audit import audit_page
from pointcare.web.pages.bedside import BEDSIDE_ROUTES
from pointcare.web.pages.capture import capture_by_query, capture_page, capture_photo
from pointcare.web.pages.compare import compare_page
from pointcare.web.pages.consent import change_consent, consent_page
from pointcare.web.pages.corrections import correct_page, correct_photo, rejected_page
from pointcare.web.pages.documents import document_pdf
from pointcare.web.pages.export import export_dicom, export_page, export_report, export_teaching
from pointcare.web.pages.findings import FINDINGS_PAGES
from pointcare.web.pages.glass import break_glass, break_glass_page
from pointcare.web.pages.home import home
from pointcare.web.pages.launch import launch
from pointcare.web.pages.login import sign_in, sign_in_page, sign_out
from pointcare.web.pages.review import pacs_studies, pacs_study_thumbnail, photo_page, review_page
from pointcare.web.pages.upload import upload_page
from pointcare.web.pages.users import USER_ROUTES
from pointcare.web.shell import SHELL_ROUTES

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

# Admin: the audit trail search (web/pages/audit.py).
PAGE_ROUTES += [audit_page]

# Admin: accounts, roles, switching off, temporary passwords (web/pages/users.py).
PAGE_ROUTES += USER_ROUTES

# The installable app shell: manifest, service worker, offline page (web/shell.py).
PAGE_ROUTES += SHELL_ROUTES

# Exports: documentation report, DICOM ZIP, teaching set.
PAGE_ROUTES += [export_page, export_report, export_dicom, export_teaching]

# Consent over time: teaching and publication consent given or withdrawn later.
PAGE_ROUTES += [consent_page, change_consent]

# Corrections (IHE IOCM): wrong patient, wrong details, quality; the admin's list of rejections.
PAGE_ROUTES += [correct_page, correct_photo, rejected_page]

# Compare photos side by side (wound healing over time).
PAGE_ROUTES += [compare_page]

# Add images from the desk (many files, per-file progress).
PAGE_ROUTES += [upload_page, document_pdf]

# The bedside flow: scan, confirm, consent, capture, summary, idle lock (web/pages/bedside.py).
PAGE_ROUTES += BEDSIDE_ROUTES

# EHR launch: a signed token opens a session bound to the EHR's patient (web/pages/launch.py).
PAGE_ROUTES += [launch]

# The user's own account: change the password, sign out everywhere (web/pages/account.py).
PAGE_ROUTES += [account_page, password_page, change_password, sign_out_everywhere]

# Break the glass: a reason opens a patient's sensitive photos for a while (web/pages/glass.py).
PAGE_ROUTES += [break_glass_page, break_glass]

# Findings: wounds and lesions over time, and measuring them.
PAGE_ROUTES += FINDINGS_PAGES
