"""UIDs as they arrive in DICOMweb paths and query keys: checked before they reach a query."""

from __future__ import annotations

import re

from litestar.exceptions import ClientException

MAX_UID_LENGTH = 64
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_uid(value: str) -> bool:
    """Whether ``value`` is a syntactically valid UID (PS3.5 9.1)."""
    return len(value) <= MAX_UID_LENGTH and _UID.fullmatch(value) is not None


def require_uid(value: str, what: str) -> str:
    """``value`` when it is a valid UID; otherwise 400 naming ``what`` ("Study Instance UID")."""
    if not is_uid(value):
        raise ClientException(
            detail=f"{what} {value[:80]!r} is not a valid DICOM UID "
            f"(dot-separated numbers without leading zeros, at most {MAX_UID_LENGTH} characters)."
        )
    return value
