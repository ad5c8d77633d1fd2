"""URLs of DICOMweb resources, as written into answers (Retrieve URL, Bulk Data URI)."""

from __future__ import annotations

PREFIX = "/dicomweb"
"""Where the DICOMweb service is mounted."""


def service_url(base_url: str) -> str:
    """The service root for a request's base URL, e.g. ``https://host/dicomweb``."""
    return base_url.rstrip("/") + PREFIX


def study_url(service: str, study_uid: str) -> str:
    return f"{service}/studies/{study_uid}"


def series_url(service: str, study_uid: str, series_uid: str) -> str:
    return f"{study_url(service, study_uid)}/series/{series_uid}"


def instance_url(service: str, study_uid: str, series_uid: str, sop_uid: str) -> str:
    return f"{series_url(service, study_uid, series_uid)}/instances/{sop_uid}"
