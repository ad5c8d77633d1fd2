"""DICOM UIDs for new studies, series and instances."""

from __future__ import annotations

import re

from pydicom.uid import UID, generate_uid

MAX_UID_LENGTH = 64
MAX_ROOT_LENGTH = 40
"""Leaves at least 23 random digits (over 75 bits) after an organisation root."""
_ROOT = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_uid(value: str) -> bool:
    """Whether ``value`` is a syntactically valid UID (PS3.5 9.1)."""
    return len(value) <= MAX_UID_LENGTH and _ROOT.fullmatch(value) is not None


def new_uid(root: str = "") -> str:
    """A new globally unique UID.

    Without ``root`` it is a UUID-derived ``2.25.<decimal>`` UID (PS3.5 B.2), which needs no
    registration. With an organisation root it is ``root.<random digits>``, up to 64 characters.
    """
    if not root:
        return str(generate_uid(prefix=None))
    if len(root) > MAX_ROOT_LENGTH or _ROOT.fullmatch(root) is None:
        raise ValueError(
            f"UID root {root!r} must be dot-separated numbers without leading zeros, "
            f"at most {MAX_ROOT_LENGTH} characters"
        )
    uid = UID(generate_uid(prefix=f"{root}."))
    if not uid.is_valid or len(uid) > MAX_UID_LENGTH:  # pragma: no cover - pydicom guarantees it
        raise ValueError(f"generated UID {uid!r} is not valid")
    return str(uid)
