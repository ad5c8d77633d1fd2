"""The trusted issuers this Pointcare uses: from the issuers file and/or the single-issuer
settings, gathered into one verifier (built once per process: JWKS caches live in it)."""

from __future__ import annotations

from pathlib import Path

from pointcare.launch.config import IssuerConfig, issuer_from_mapping, load_issuers_file
from pointcare.launch.errors import LaunchConfigError
from pointcare.launch.verify import LaunchVerifier
from pointcare.settings import Settings


def configured_issuers(settings: Settings) -> list[IssuerConfig]:
    issuers: list[IssuerConfig] = []
    if settings.launch_issuers_file:
        issuers += load_issuers_file(Path(settings.launch_issuers_file))
    if settings.launch_issuer:
        raw: dict[str, object] = {"id": settings.launch_issuer}
        if settings.launch_issuer_secret:
            raw["secret"] = settings.launch_issuer_secret
        else:
            raw["jwks_url"] = settings.launch_issuer_jwks_url
        try:
            issuers.append(issuer_from_mapping(raw, base_dir=settings.data_dir))
        except LaunchConfigError as exc:
            raise LaunchConfigError(f"POINTCARE_LAUNCH_ISSUER: {exc}") from None
    return issuers


def build_verifier(settings: Settings) -> LaunchVerifier:
    """``LaunchConfigError`` when the configuration is unusable: better at start-up than at
    the first launch in a ward."""
    return LaunchVerifier(
        configured_issuers(settings),
        audience=settings.effective_launch_audience,
        leeway_seconds=settings.launch_leeway_seconds,
    )
