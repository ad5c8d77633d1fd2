"""Settings, read once from ``POINTCARE_*`` environment variables.

Every field has a docstring; the README documents each variable with its default, and a test
fails when one is missing there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "POINTCARE_"


def _env(name: str) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else None


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {raw!r}")


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path = Path("./var")
    """Folder for the built-in archive, the SQLite database and the generated secret key."""

    database_url: str = ""
    """SQLAlchemy URL. Default: SQLite file ``pointcare.db`` in the data dir (WAL mode).
    Production: ``postgresql+psycopg://user:password@host:5432/pointcare``."""

    secret_key: str = ""
    """Key that signs API tokens. Default: generated once and kept in ``DATA_DIR/secret_key``."""

    max_upload_bytes: int = 40 * 1024 * 1024
    """Largest accepted upload (bytes); larger requests are refused with 413."""

    max_image_pixels: int = 64_000_000
    """Largest accepted image (width x height); protects against decompression bombs."""

    jpeg_quality: int = 95
    """JPEG quality used when a photo has to be re-encoded (rotated, stripped, converted)."""

    token_ttl_seconds: int = 900
    """Lifetime of API bearer tokens minted by ``pointcare token`` (seconds)."""

    session_idle_minutes: int = 30
    """A browser session ends after this many minutes without a request."""

    session_max_hours: int = 12
    """A browser session ends this many hours after sign-in, whatever its activity."""

    htmx_src: str = "cdn"
    """Where pages load htmx from: ``cdn`` (pinned version with SRI) or ``local`` (a copy fetched
    at install time by ``make vendor`` and served by Pointcare, for offline hospitals)."""

    institution_name: str = "Pointcare Demo Hospital"
    """Institution Name written into every DICOM object."""

    issuer_of_patient_id: str = "PCDEMO"
    """Default assigning authority of MRNs (DICOM Issuer of Patient ID) when none is given."""

    uid_root: str = ""
    """Organisation UID root for new DICOM UIDs. Default: UUID-derived UIDs under ``2.25``."""

    workers: int = 0
    """Threads for image work (decode, re-encode, thumbnail). Default 0: one per CPU core."""

    public_url: str = ""
    """The address clients use to reach Pointcare (e.g. ``https://photos.hospital.org``), written
    into absolute links such as DICOMweb Retrieve URLs. Default: taken from each request."""

    secure_cookies: bool = False
    """Mark the session cookie ``Secure``; set it when Pointcare is served behind TLS."""

    def __post_init__(self) -> None:
        if self.htmx_src not in {"cdn", "local"}:
            raise ValueError(f"POINTCARE_HTMX_SRC must be 'cdn' or 'local', got {self.htmx_src!r}")
        for name in ("max_upload_bytes", "max_image_pixels", "token_ttl_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"POINTCARE_{name.upper()} must be positive")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("POINTCARE_PUBLIC_URL must start with http:// or https://")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("POINTCARE_JPEG_QUALITY must be between 1 and 100")

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pointcare.db').resolve()}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Build settings from the environment; ``overrides`` win (used by tests and the CLI)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = _env(f.name.upper())
            if raw is None:
                continue
            kind = str(f.type)
            if kind == "int":
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ValueError(
                        f"{ENV_PREFIX}{f.name.upper()} must be a whole number"
                    ) from None
            elif kind == "bool":
                values[f.name] = _parse_bool(raw)
            elif kind == "Path":
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)
        return settings.with_secret_key()

    def with_secret_key(self) -> Settings:
        """Return settings whose secret key is set, generating and keeping one when unset."""
        if self.secret_key:
            return self
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=key_file.read_text().strip())


def documented_variables() -> list[str]:
    """Names of every environment variable Pointcare reads (for docs and their test)."""
    return [ENV_PREFIX + f.name.upper() for f in fields(Settings)]


__all__ = ["ENV_PREFIX", "Settings", "documented_variables"]
