"""Application errors: raised by services with a user-facing ``detail``.

``pointcare.web.problems`` is the one place that turns them (and framework errors) into HTTP
answers: problem JSON (RFC 9457) for the API, a readable page for browsers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class PointcareError(Exception):
    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    retry_after_seconds: ClassVar[int | None] = None
    """When set, the answer tells the client to try again after this many seconds."""

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class BadRequest(PointcareError):
    """The request itself cannot be read (too many fields, JSON nested too deep)."""


class InvalidInput(PointcareError):
    status_code = 422
    title = "Invalid input"


class NotFound(PointcareError):
    status_code = 404
    title = "Not found"


class Conflict(PointcareError):
    status_code = 409
    title = "Conflict"


class NotAuthenticated(PointcareError):
    status_code = 401
    title = "Sign-in required"


class Forbidden(PointcareError):
    """Refused to a signed-in user; the refusal is audited, with the patient and objects it
    concerned when the code that refused knows them (``patient_id``, ``objects``)."""

    status_code = 403
    title = "Not allowed"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, str] | None = None,
        patient_id: int | None = None,
        objects: Sequence[str] = (),
    ) -> None:
        super().__init__(detail, errors=errors)
        self.patient_id = patient_id
        self.objects = tuple(objects)


class Locked(PointcareError):
    """The session is locked until its user types their password again."""

    status_code = 423
    title = "Locked"


class PasswordChangeRequired(PointcareError):
    """The user signed in with a password an admin gave out: they choose their own first."""

    status_code = 403
    title = "Change your password"


class TooManyAttempts(PointcareError):
    """A password check refused unchecked: too many wrong ones (``pointcare.auth.throttle``)."""

    status_code = 429
    title = "Too many attempts"


class PayloadTooLarge(PointcareError):
    status_code = 413
    title = "Too large"


class UnsupportedMediaType(PointcareError):
    status_code = 415
    title = "Unsupported file type"


class ConsentRequired(PointcareError):
    status_code = 422
    title = "Consent required"


class ServiceUnavailable(PointcareError):
    """A part we depend on (the database, the disk) is not answering: try again shortly."""

    status_code = 503
    title = "Try again shortly"
    retry_after_seconds = 5


class NotMeasurable(PointcareError):
    """A photo that cannot be measured: no marker, a marker too small, a view too oblique.
    ``errors["reason"]`` names which, for programs."""

    status_code = 422
    title = "Photo cannot be measured"


class InsufficientStorage(PointcareError):
    """A disk is full: nothing was stored."""

    status_code = 507
    title = "Out of storage space"
    retry_after_seconds = 60
