"""Why a launch was refused: one error family, with a short reason for the audit trail and logs.

``detail`` is what the person at the browser reads; ``reason`` is a stable code (``expired``,
``replay``, ``signature``...) for the audit trail and the log. Neither ever holds the token.
"""

from __future__ import annotations

from pointcare.errors import PointcareError


class LaunchRefused(PointcareError):
    """The token is not one we trust, or not any more (bad signature, expired, replayed...)."""

    status_code = 403
    title = "Could not open Pointcare from the EHR"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class LaunchIncomplete(LaunchRefused):
    """No token at all, or one too large to be a launch token."""

    status_code = 400


class LaunchPatientUnknown(LaunchRefused):
    """The token is good but names a patient the directory does not hold."""

    status_code = 404


class LaunchConfigError(ValueError):
    """The trusted issuers' configuration is unusable: a start-up error, not a refusal."""
