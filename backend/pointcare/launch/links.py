"""``pointcare launch-url``: a working launch link for demos and tests.

Only for an issuer whose signing key Pointcare holds (an HS256 secret, or ``signing_key_file``).
With no issuer configured, the demo issuer that ``serve --demo`` wrote into the data dir is used.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from pointcare.auth.accounts import find_user
from pointcare.auth.roles import Role
from pointcare.errors import InvalidInput, NotFound
from pointcare.identity.directory import find_by_mrn
from pointcare.launch.config import IssuerConfig, load_issuers_file
from pointcare.launch.demo import DEMO_ISSUERS_FILE
from pointcare.launch.mint import mint_launch_token
from pointcare.launch.registry import configured_issuers
from pointcare.settings import Settings

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def minting_issuers(settings: Settings) -> list[IssuerConfig]:
    issuers = configured_issuers(settings)
    demo = settings.data_dir / DEMO_ISSUERS_FILE
    if not issuers and demo.exists():
        issuers = load_issuers_file(Path(demo))
    return [issuer for issuer in issuers if issuer.can_mint]


def pick_issuer(settings: Settings, wanted: str | None) -> IssuerConfig:
    issuers = minting_issuers(settings)
    names = ", ".join(i.id for i in issuers) or "none"
    if wanted is not None:
        for issuer in issuers:
            if issuer.id == wanted:
                return issuer
        raise InvalidInput(f"no issuer {wanted!r} with a local signing key (have: {names})")
    if len(issuers) != 1:
        raise InvalidInput(
            "name the issuer with --issuer (issuers with a local signing key: "
            f"{names}; `pointcare serve --demo` sets one up)"
        )
    return issuers[0]


def launch_url(
    session: Session,
    settings: Settings,
    *,
    user: str,
    patient_mrn: str,
    view: str | None = None,
    issuer_id: str | None = None,
    role: str | None = None,
    base_url: str | None = None,
) -> str:
    issuer = pick_issuer(settings, issuer_id)
    patient = find_by_mrn(session, patient_mrn)
    if patient is None:
        raise NotFound(f"no patient with MRN {patient_mrn}")
    local = find_user(session, user)
    local_role = Role(local.role) if local is not None else None
    ehr_role = role or (
        local_role.value if local_role is Role.PHOTOGRAPHER else Role.CLINICIAN.value
    )
    token = mint_launch_token(
        issuer,
        audience=settings.effective_launch_audience,
        subject=user,
        name=local.display_name if local is not None else user,
        role=ehr_role,
        patient={"id": patient.mrn, "issuer": patient.issuer},
        encounter=patient.visit_number,
        view=view,
    )
    base = (base_url or settings.public_url or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}/launch?{urlencode({'token': token})}"
