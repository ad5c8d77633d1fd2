"""UIDs as they arrive in DICOMweb paths and query keys: checked before they reach a query."""

from __future__ import annotations

from litestar.exceptions import ClientException

from pointcare.dicom.uids import MAX_UID_LENGTH, is_uid

__all__ = ["is_uid", "require_uid"]


def require_uid(value: str, what: str) -> str:
    """``value`` when it is a valid UID; otherwise 400 naming ``what`` ("Study Instance UID")."""
    if not is_uid(value):
        raise ClientException(
            detail=f"{what} {value[:80]!r} is not a valid DICOM UID "
            f"(dot-separated numbers without leading zeros, at most {MAX_UID_LENGTH} characters)."
        )
    return value
