"""Completing a launch: verified token -> used once -> user -> patient -> bound session.

Everything after the signature check happens in one transaction, so a launch either opens a
session (and spends its ``jti``) or leaves nothing behind. Both outcomes are audited: ``launch``
in the same transaction, ``launch.refused`` on its own (the refused transaction rolled back).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pointcare import audit
from pointcare.auth.accounts import principal_of
from pointcare.auth.principal import Principal
from pointcare.auth.sessions import SessionPolicy, close_session, open_session
from pointcare.db.engine import Database
from pointcare.db.models import Patient
from pointcare.errors import PointcareError
from pointcare.identity.directory import find_by_mrn
from pointcare.launch.claims import LaunchClaims, LaunchView
from pointcare.launch.errors import LaunchPatientUnknown, LaunchRefused
from pointcare.launch.replay import use_token_once
from pointcare.launch.users import external_user
from pointcare.launch.verify import LaunchVerifier

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caller:
    """Where the launch came from, for the audit trail."""

    client_address: str | None
    user_agent: str | None
    previous_cookie: str | None = None
    """The browser's session before the launch: ended, the launch always starts a new one."""


@dataclass(frozen=True, slots=True)
class LaunchOutcome:
    cookie: str
    principal: Principal
    patient_mrn: str
    patient_issuer: str
    view: LaunchView


def complete_launch(
    db: Database,
    verifier: LaunchVerifier,
    token: object,
    policy: SessionPolicy,
    caller: Caller,
) -> LaunchOutcome:
    claims: LaunchClaims | None = None
    try:
        claims = verifier.verify(token)
        with db.write() as session:
            use_token_once(
                session, issuer=claims.issuer, jti=claims.jti, expires_at=claims.expires_at
            )
            patient = _patient(session, claims)
            user = external_user(session, claims)
            if caller.previous_cookie:
                close_session(session, caller.previous_cookie)
            cookie = open_session(
                session,
                user,
                policy,
                launch_patient_id=patient.id,
                launch_encounter=claims.encounter,
            )
            principal = principal_of(user, bound_patient_id=patient.id)
            view = landing_view(claims)
            audit.record(session, _event(claims, caller, principal, patient, view))
            outcome = LaunchOutcome(cookie, principal, patient.mrn, patient.issuer, view)
    except LaunchRefused as exc:
        log.info(
            "launch refused (%s) issuer=%s jti=%s",
            exc.reason,
            claims.issuer if claims else "-",
            claims.jti if claims else "-",
        )
        audit.record_now(db, _refused(claims, caller, exc))
        raise
    log.info("launch ok: user %d, patient %d", outcome.principal.user_id, patient.id)
    return outcome


def landing_view(claims: LaunchClaims) -> LaunchView:
    """Capture or review: the token's ``view`` when the role allows it. A photographer always
    lands on capture (review is for clinicians); a clinician without ``view`` on review."""
    if not claims.role.can_review:
        return LaunchView.CAPTURE
    return claims.view or LaunchView.REVIEW


def _patient(session: Session, claims: LaunchClaims) -> Patient:
    try:
        patient = find_by_mrn(session, claims.patient_mrn, claims.patient_issuer)
    except PointcareError as exc:  # several issuers hold the MRN, or it is malformed
        raise LaunchRefused(
            "patient_ambiguous",
            f"The EHR's patient could not be matched safely: {exc.detail}. Ask the EHR team to "
            "send the patient's issuer with the MRN.",
        ) from None
    if patient is None:
        raise LaunchPatientUnknown(
            "patient_unknown",
            f"Pointcare does not know the patient with MRN {claims.patient_mrn}. The patient "
            "may not have reached Pointcare's patient list yet: try again in a few minutes, "
            "or call the IT service desk.",
        )
    return patient


def _event(
    claims: LaunchClaims,
    caller: Caller,
    principal: Principal,
    patient: Patient,
    view: LaunchView,
) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.LAUNCH,
        actor=audit.Actor.of(
            principal, client_address=caller.client_address, user_agent=caller.user_agent
        ),
        patient=audit.PatientRef.of(patient),
        outcome=audit.Outcome.SUCCESS,
        details={
            "issuer": claims.issuer,
            "jti": claims.jti,
            "encounter": claims.encounter,
            "view": view.value,
        },
    )


def _refused(claims: LaunchClaims | None, caller: Caller, exc: LaunchRefused) -> audit.AuditEvent:
    return audit.AuditEvent(
        action=audit.AuditAction.LAUNCH_REFUSED,
        actor=audit.Actor(
            user_id=None,
            username=f"{claims.subject}@{claims.issuer}"[:64] if claims else None,
            role=audit.SystemRole.ANONYMOUS.value,
            client_address=caller.client_address,
            user_agent=caller.user_agent,
        ),
        patient=(
            audit.PatientRef(mrn=claims.patient_mrn, issuer=claims.patient_issuer)
            if claims
            else None
        ),
        outcome=(
            audit.Outcome.REFUSED if exc.reason in {"replay", "role"} else audit.Outcome.FAILURE
        ),
        reason=exc.reason,
        details={"issuer": claims.issuer, "jti": claims.jti} if claims else {},
    )
