"""Roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PHOTOGRAPHER = "photographer"
    """Captures photos; cannot review a patient's record."""
    CLINICIAN = "clinician"
    """Captures and reviews."""
    ADMIN = "admin"
    """Everything, including accounts and settings."""

    @classmethod
    def parse(cls, raw: str) -> Role:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise ValueError(f"role must be one of {choices}, got {raw!r}") from None

    @property
    def description(self) -> str:
        """What the role lets its user do, for the admin choosing it."""
        return {
            Role.PHOTOGRAPHER: "Photographer: takes photos, does not open patients' records",
            Role.CLINICIAN: "Clinician: takes photos and reviews patients' records",
            Role.ADMIN: "Admin: everything, accounts and the audit trail included",
        }[self]

    @property
    def can_review(self) -> bool:
        return self in {Role.CLINICIAN, Role.ADMIN}

    @property
    def can_capture(self) -> bool:
        return True

    @property
    def can_administer(self) -> bool:
        return self is Role.ADMIN


REVIEWERS = frozenset({Role.CLINICIAN, Role.ADMIN})
