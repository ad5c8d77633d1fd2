"""Break the glass: a reason, given by one user for one patient, that opens sensitive photos.

The grant is short-lived (``POINTCARE_BREAK_GLASS_MINUTES``) and bound to the user and the
patient; every grant is an ``break_glass`` audit event with its reason. Whoever opens sealed
photos without a grant gets ``GlassUnbroken`` (403), never the pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pointcare.db.models import BreakGlassGrant, Instance
from pointcare.errors import Forbidden, InvalidInput

REASON_MIN = 10
"""Shortest accepted reason: enough for "wound check", not for "x" or "ok"."""
REASON_MAX = 500


class GlassUnbroken(Forbidden):
    title = "Sensitive image"


SEALED = (
    "This photo is marked sensitive. Open it from the patient's photos and give a reason "
    "(break the glass) to see it."
)


def check_reason(raw: str) -> str:
    """The reason as it will be stored; ``InvalidInput`` naming the field when unusable."""
    reason = " ".join(raw.split())
    if len(reason) < REASON_MIN:
        message = f"Say why you need to see these photos (at least {REASON_MIN} characters)."
        raise InvalidInput(message, errors={"reason": message})
    if len(reason) > REASON_MAX:
        message = f"Keep the reason under {REASON_MAX} characters."
        raise InvalidInput(message, errors={"reason": message})
    return reason


def grant(
    session: Session,
    *,
    user_id: int,
    patient_id: int,
    reason: str,
    minutes: int,
    now: datetime | None = None,
) -> BreakGlassGrant:
    """Open the patient's sensitive photos to the user for ``minutes``; the caller audits it in
    the same transaction."""
    moment = now or datetime.now(UTC)
    record = BreakGlassGrant(
        user_id=user_id,
        patient_id=patient_id,
        reason=check_reason(reason),
        granted_at=moment,
        expires_at=moment + timedelta(minutes=minutes),
    )
    session.add(record)
    session.flush()
    return record


def granted_patients(
    session: Session, user_id: int, patient_ids: Iterable[int], *, now: datetime | None = None
) -> set[int]:
    """Those of ``patient_ids`` whose sensitive photos the user may open now."""
    wanted = set(patient_ids)
    if not wanted:
        return set()
    moment = now or datetime.now(UTC)
    rows = session.scalars(
        select(BreakGlassGrant.patient_id).where(
            BreakGlassGrant.user_id == user_id,
            BreakGlassGrant.patient_id.in_(wanted),
            BreakGlassGrant.expires_at > moment,
        )
    )
    return set(rows)


def has_grant(session: Session, user_id: int, patient_id: int) -> bool:
    return patient_id in granted_patients(session, user_id, [patient_id])


def sealed_uids(session: Session, user_id: int, sop_uids: Iterable[str]) -> set[str]:
    """Those of ``sop_uids`` that are sensitive photos the user may not open now."""
    wanted = set(sop_uids)
    if not wanted:
        return set()
    sensitive = session.execute(
        select(Instance.sop_instance_uid, Instance.patient_id).where(
            Instance.sop_instance_uid.in_(wanted), Instance.sensitive.is_(True)
        )
    ).all()
    if not sensitive:
        return set()
    open_to_user = granted_patients(session, user_id, {patient for _, patient in sensitive})
    return {uid for uid, patient in sensitive if patient not in open_to_user}


def require_unsealed(session: Session, user_id: int, sop_uids: Iterable[str]) -> None:
    """``GlassUnbroken`` when any of ``sop_uids`` is sealed for the user."""
    if sealed := sealed_uids(session, user_id, sop_uids):
        raise GlassUnbroken(SEALED, objects=sorted(sealed))
