"""Who is making a request, as the web layer and the services see it."""

from __future__ import annotations

from dataclasses import dataclass

from pointcare.auth.roles import Role
from pointcare.domain.patients import person_name_from_display


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    session_id: int | None = None
    """Set for browser sessions; None for bearer tokens."""
    bound_patient_id: int | None = None
    """A session opened by an EHR launch is bound to that patient (``pointcare.launch.binding``):
    others only after an explicit search. None: not bound."""
    locked: bool = False
    """The session's screen locked (bedside idle lock): it opens nothing until the password."""
    must_change_password: bool = False
    """The user signed in with a password an admin gave out: nothing opens but the change of
    password until they choose their own."""

    @property
    def dicom_name(self) -> str:
        """Operator's Name (PN) made from the display name."""
        return person_name_from_display(self.display_name or self.username)
