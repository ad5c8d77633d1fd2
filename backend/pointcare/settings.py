"""Settings, read once from ``POINTCARE_*`` environment variables.

Every field has a docstring: the settings reference (docs/settings.md) is written from them by
``make docs``, and a test fails when the two differ.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pointcare.wristband.identifiers import (
    DEFAULT_MRN_PATTERN,
    DEFAULT_PREFIXES,
    WristbandConfigError,
    WristbandRules,
)

ENV_PREFIX = "POINTCARE_"


class ArchiveKind(StrEnum):
    """Values of ``POINTCARE_ARCHIVE``."""

    BUILTIN = "builtin"
    DICOMWEB = "dicomweb"


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

    db_pool_size: int = 10
    """PostgreSQL: connections each process keeps open in its pool (ignored for SQLite)."""

    db_max_overflow: int = 20
    """PostgreSQL: connections a process may open beyond the pool under load, closed when
    returned. A process uses at most ``DB_POOL_SIZE + DB_MAX_OVERFLOW`` connections."""

    secret_key: str = ""
    """Key that signs API tokens and CSRF tokens: at least 32 bytes, random, the same on every
    node; a placeholder such as ``CHANGE-ME...`` stops start-up. Default: generated once and
    kept in ``DATA_DIR/secret_key``."""

    trusted_proxies: str = ""
    """Addresses or networks (CIDR) of the reverse proxies in front of Pointcare, separated by
    commas: only a request from one of them has its ``X-Forwarded-For``, ``-Proto`` and
    ``-Host`` believed (the client's address for sign-in limits and the audit trail, the scheme
    and host for links). Default: nobody's (every request is taken from its TCP peer)."""

    max_upload_bytes: int = 40 * 1024 * 1024
    """Largest accepted upload (bytes); larger requests are refused with 413."""

    max_image_pixels: int = 64_000_000
    """Largest accepted image (width x height); protects against decompression bombs."""

    jpeg_quality: int = 95
    """JPEG quality used when a photo has to be re-encoded (HEIC, PNG, wide gamut, progressive, a
    rotation that cannot be done losslessly)."""

    native_code: bool = True
    """Call libjpeg-turbo directly (through ctypes) for lossless turns of rotated phone JPEGs,
    the one native path the benchmark measured at least 20 % faster than Pillow alone
    (``make bench-native``). ``false`` turns it off: Pillow and pillow-heif then do all image
    work, and rotated JPEGs are re-encoded (slower, and one JPEG generation more)."""

    # --- Video clips (see video/) ----------------------------------------------------------

    video_max_seconds: int = 60
    """Longest video clip accepted, in seconds (a second over is tolerated: a recorder stops a
    little late); the bedside recorder stops itself there."""

    video_max_bytes: int = 250 * 1024 * 1024
    """Largest video clip file accepted (bytes): a minute of 4K from a phone. Larger: 413."""

    video_convert_timeout_seconds: int = 600
    """Longest one clip's conversion (ffmpeg) may run before it is stopped and the clip refused."""

    video_convert_memory_bytes: int = 1536 * 1024 * 1024
    """Address space one clip's conversion (an ffmpeg process and its threads) may use."""

    video_convert_threads: int = 2
    """Threads each ffmpeg conversion uses for decoding, filtering and encoding."""

    video_concurrent_conversions: int = 1
    """Clips converted at the same time; each is a process within the limits above."""

    video_queue_seconds: int = 60
    """How long a clip waits for a conversion slot before the upload is answered 503 (the
    bedside and desk pages then send it again by themselves)."""

    token_ttl_seconds: int = 900
    """Lifetime of API bearer tokens minted by ``pointcare token`` (seconds)."""

    token_max_ttl_seconds: int = 3600
    """Longest lifetime an API token may have (seconds): ``pointcare token --ttl`` refuses
    more, and a token made to live longer is refused when used."""

    session_idle_minutes: int = 30
    """A browser session ends after this many minutes without a request."""

    session_max_hours: int = 12
    """A browser session ends this many hours after sign-in, whatever its activity."""

    idle_lock_seconds: int = 120
    """The bedside capture screen locks after this many seconds without input: patient data and
    thumbnails are hidden until the user types their password again (uploads carry on)."""

    htmx_src: str = "cdn"
    """Where pages load htmx from: ``cdn`` (pinned version with SRI) or ``local`` (a copy fetched
    at install time by ``make vendor`` and served by Pointcare, for offline hospitals)."""

    institution_name: str = "Pointcare Demo Hospital"
    """Institution Name written into every DICOM object."""

    issuer_of_patient_id: str = "PCDEMO"
    """Default assigning authority of MRNs (DICOM Issuer of Patient ID) when none is given."""

    adt_port: int = 0
    """TCP port of the HL7 v2 ADT listener (MLLP) that ``pointcare serve`` runs. Default 0: none
    (``pointcare adt-listen`` runs one on its own, on port 2575 unless told otherwise)."""

    adt_host: str = "127.0.0.1"
    """Address the ADT listener binds to; ``0.0.0.0`` accepts the interface engine from the
    network (MLLP has no encryption or authentication: keep it on a trusted network)."""

    adt_max_message_bytes: int = 1024 * 1024
    """Largest HL7 message accepted; a larger one is refused with an AR acknowledgement."""

    adt_idle_timeout_seconds: float = 300.0
    """An ADT connection that sends nothing for this long is closed (the interface engine
    opens a new one when it has a message): idle connections must not pile up."""

    adt_max_connections: int = 200
    """ADT connections open at once; one more is closed as soon as it is accepted (logged at
    most once a minute). Keep it well below the process's open-file limit (``LimitNOFILE``)."""

    uid_root: str = ""
    """Organisation UID root for new DICOM UIDs. Default: UUID-derived UIDs under ``2.25``."""

    workers: int = 0
    """Threads for image work (decode, re-encode, thumbnail). Default 0: one per CPU core."""

    public_url: str = ""
    """The address clients use to reach Pointcare (e.g. ``https://photos.hospital.org``), written
    into absolute links such as DICOMweb Retrieve URLs. Default: what a trusted proxy reports
    (``TRUSTED_PROXIES``), else the address Pointcare serves on (scheme, host and port of the
    connection), never a client's own Host header."""

    dicomweb_max_transcodes: int = 2
    """DICOMweb answers that decode pixels (objects in Explicit VR Little Endian, uncompressed
    frames) at the same time; each holds one decoded frame while it is sent, others wait."""

    secure_cookies: bool = False
    """Mark the session cookie ``Secure``; set it when Pointcare is served behind TLS."""

    # --- Operations (see web/health.py, web/metrics.py, archive/reconcile.py) ---------------

    min_free_megabytes: int = 1024
    """``/healthz/ready`` answers 503 (take this node out of the load balancer) when a disk
    of the data dir (archive objects, thumbnails, SQLite database) has less free space."""

    metrics_token: str = ""
    """Bearer token that ``GET /metrics`` requires (Prometheus ``authorization``). Default:
    empty, and then only clients on this machine (loopback) may read it."""

    reconcile_interval_minutes: int = 60
    """How often ``pointcare serve`` compares the archive's files with the index, removing
    orphan files and reporting rows whose file is missing (also once at start); 0: only at
    start and with ``pointcare archive check``."""

    reconcile_grace_minutes: int = 60
    """A file with no index row is removed only once it is older than this: longer than any
    store could take between writing its file and committing its row."""

    # --- Access control and hardening (see auth/throttle.py, access/, web/headers.py) --------

    frame_ancestors: str = "'none'"
    """Who may show Pointcare in a frame (CSP ``frame-ancestors``): ``'none'`` (default),
    ``'self'``, or the EHR's origins separated by spaces, e.g. ``https://ehr.hospital.org``."""

    login_max_failures: int = 5
    """Failed sign-ins (per user name, and per client address) after which sign-in is locked."""

    login_max_failures_per_address: int = 20
    """Failed sign-ins from one client address (any user names) after which sign-in is locked
    for that address; higher than per user, as a ward computer or a proxy serves many users."""

    login_window_minutes: int = 15
    """Failed sign-ins are counted over this many minutes."""

    login_lockout_minutes: int = 15
    """How long sign-in stays locked after too many failures."""

    break_glass_minutes: int = 30
    """How long a "break the glass" grant lets one user open one patient's sensitive photos."""

    temporary_password_hours: int = 72
    """A password an admin gives out (a new account, a reset) stops working after this many
    hours if its user has not chosen their own with it (72: a reset on Friday evening still
    works on Monday morning)."""

    wristband_prefixes: str = ",".join(DEFAULT_PREFIXES)
    """Comma-separated prefixes that introduce an MRN on a wristband (``MRN:PC100001``, also
    HL7 style ``MRN:PC100001^^^ISSUER``); matched ignoring case; ``none`` turns the form off."""

    wristband_mrn_pattern: str = DEFAULT_MRN_PATTERN
    """Regular expression a wristband MRN must match in full (plain and prefixed forms)."""

    wristband_gsrn_issuer: str = ""
    """Issuer under which the directory holds GSRNs (GS1 AI 8018) as patient identifiers.
    Default: empty, a GSRN is looked up as an MRN under whichever issuer holds it."""

    # --- The audit trail's anchor (see audit/) -------------------------------------------

    audit_key: str = ""
    """HMAC key of the audit trail's hash chain and of its checkpoints (at least 32 bytes), kept
    out of the database: whoever can write the database cannot rewrite the trail without it.
    Default: derived from the secret key."""

    audit_checkpoint_file: str = ""
    """File the audit trail's signed checkpoints (event count, last hash) are appended to;
    ``pointcare audit verify`` checks the trail against the latest. Put it where the database's
    administrators cannot write. Default: ``DATA_DIR/audit/checkpoints.jsonl``."""

    audit_checkpoint_seconds: int = 60
    """How often ``pointcare serve`` writes a checkpoint while the trail grows (seconds)."""

    audit_syslog: str = "/dev/log"
    """Where each checkpoint is also sent: a syslog socket path, ``host:port`` (UDP), or
    ``off``. The default socket is skipped when the machine has none."""

    # --- Delivery to a PACS (see archive/) -------------------------------------------------

    archive: str = "builtin"
    """Where photos are archived: ``builtin`` (files + database index, served under /dicomweb)
    or ``dicomweb`` (a PACS over STOW-RS/QIDO-RS/WADO-RS; the built-in files are a spool that
    is emptied once the PACS confirms each object)."""

    dicomweb_url: str = ""
    """Base URL of the PACS's DICOMweb service, e.g. ``http://127.0.0.1:8042/dicom-web``."""

    dicomweb_username: str = ""
    """User for HTTP basic authentication at the PACS (with ``DICOMWEB_PASSWORD``)."""

    dicomweb_password: str = ""
    """Password for HTTP basic authentication at the PACS."""

    dicomweb_token: str = ""
    """Bearer token for the PACS, instead of a user name and password."""

    dicomweb_ca_bundle: str = ""
    """PEM file of the CA certificates that sign the PACS's TLS certificate. Default: the
    system's trusted CAs."""

    dicomweb_verify_tls: bool = True
    """Verify the PACS's TLS certificate. Turn off only for a test PACS, never in production."""

    dicomweb_timeout_seconds: float = 30.0
    """Longest wait for the PACS to connect, or to send or answer any part of a request."""

    delivery_batch_size: int = 10
    """Photos a forwarder claims and sends in one STOW-RS request."""

    delivery_concurrent_requests: int = 3
    """STOW-RS requests a forwarder has under way at once, each with a batch of its own: while
    the PACS stores one batch, the next is read from the spool and sent. 1 sends one batch at
    a time."""

    delivery_max_attempts: int = 10
    """Failed attempts after which a delivery is parked until an admin retries it."""

    delivery_backoff_seconds: float = 30.0
    """Wait before the first retry; it doubles after each failure (with random jitter)."""

    delivery_backoff_max_seconds: float = 3600.0
    """Longest wait between two attempts of one delivery."""

    delivery_poll_seconds: float = 2.0
    """How often an idle forwarder looks for photos to deliver."""

    delivery_lease_seconds: float = 300.0
    """How long a forwarder holds the photos it claimed without renewing the lease (it renews
    it while sending); after that, a forwarder that died is presumed dead and another one takes
    them over. Must exceed the request timeout."""

    delivery_batch_seconds: float = 300.0
    """Longest time one STOW-RS request may take in all (sending and answer), however steadily
    a slow PACS trickles bytes; then its photos are tried again later, in smaller requests."""

    # --- EHR launch (see launch/) ---------------------------------------------------------

    launch_issuers_file: str = ""
    """TOML (or ``.json``) file of the EHRs trusted to open Pointcare with a signed launch token:
    issuer id, algorithms, key (HS256 secret, RS256/ES256 public key, or JWKS URL). See the
    EHR launch section of docs/api.md. Default: none (``/launch`` refuses every token)."""

    launch_issuer: str = ""
    """One trusted issuer without a file (the tokens' ``iss``), with ``LAUNCH_ISSUER_SECRET``
    (HS256) or ``LAUNCH_ISSUER_JWKS_URL`` (RS256/ES256)."""

    launch_issuer_secret: str = ""
    """HS256 shared secret of ``LAUNCH_ISSUER`` (at least 32 bytes)."""

    launch_issuer_jwks_url: str = ""
    """JWKS URL of ``LAUNCH_ISSUER``; keys are cached by ``kid`` and fetched again on rotation."""

    launch_audience: str = ""
    """The ``aud`` launch tokens must carry. Default: ``PUBLIC_URL`` when set, else
    ``pointcare``."""

    launch_leeway_seconds: int = 30
    """Clock difference tolerated between the EHR and Pointcare when checking ``exp``/``nbf``."""

    viewer_dir: str = ""
    """Folder of the OHIF viewer that ``make viewer`` installs, served under /viewer/. Default:
    ``pwa/viewer`` beside the templates. Without a viewer there, pages show no viewer link."""

    viewer_url: str = ""
    """Link to an external viewer for a study, with ``{study}`` for the Study Instance UID, e.g.
    ``https://viewer.hospital.org/viewer?StudyInstanceUIDs={study}`` (OHIF). Default: no link."""

    def __post_init__(self) -> None:
        if self.htmx_src not in {"cdn", "local"}:
            raise ValueError(f"POINTCARE_HTMX_SRC must be 'cdn' or 'local', got {self.htmx_src!r}")
        for name in (
            "max_upload_bytes",
            "max_image_pixels",
            "token_ttl_seconds",
            "token_max_ttl_seconds",
            "idle_lock_seconds",
            "dicomweb_max_transcodes",
            "audit_checkpoint_seconds",
            "video_max_seconds",
            "video_max_bytes",
            "video_convert_timeout_seconds",
            "video_convert_threads",
            "video_concurrent_conversions",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"POINTCARE_{name.upper()} must be positive")
        if self.token_ttl_seconds > self.token_max_ttl_seconds:
            raise ValueError(
                "POINTCARE_TOKEN_TTL_SECONDS must not exceed POINTCARE_TOKEN_MAX_TTL_SECONDS"
            )
        for name in ("secret_key", "audit_key"):
            if getattr(self, name):
                check_key(getattr(self, name), f"POINTCARE_{name.upper()}")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("POINTCARE_PUBLIC_URL must start with http:// or https://")
        if self.video_convert_memory_bytes < 256 * 1024 * 1024:
            raise ValueError("POINTCARE_VIDEO_CONVERT_MEMORY_BYTES must be at least 256 MiB")
        if self.video_queue_seconds < 0:
            raise ValueError("POINTCARE_VIDEO_QUEUE_SECONDS must not be negative")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("POINTCARE_JPEG_QUALITY must be between 1 and 100")
        self._check_database_and_adt()
        self._check_access()
        try:
            WristbandRules.from_config(
                prefixes=self.wristband_prefixes,
                mrn_pattern=self.wristband_mrn_pattern,
                gsrn_issuer=self.wristband_gsrn_issuer,
            )
        except WristbandConfigError as exc:
            raise ValueError(f"POINTCARE_WRISTBAND_{exc.option.upper()}: {exc}") from None
        self._check_delivery()

    def _check_access(self) -> None:
        for name in (
            "login_max_failures",
            "login_max_failures_per_address",
            "login_window_minutes",
            "login_lockout_minutes",
            "break_glass_minutes",
            "temporary_password_hours",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"POINTCARE_{name.upper()} must be positive")
        try:
            frame_ancestors_sources(self.frame_ancestors)
        except ValueError as exc:
            raise ValueError(f"POINTCARE_FRAME_ANCESTORS: {exc}") from None
        try:
            proxy_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"POINTCARE_TRUSTED_PROXIES: {exc}") from None

    def _check_database_and_adt(self) -> None:
        if self.db_pool_size < 1:
            raise ValueError("POINTCARE_DB_POOL_SIZE must be at least 1")
        if self.db_max_overflow < 0:
            raise ValueError("POINTCARE_DB_MAX_OVERFLOW must not be negative")
        if not 0 <= self.adt_port <= 65535:
            raise ValueError("POINTCARE_ADT_PORT must be between 0 (off) and 65535")
        for name in ("adt_max_message_bytes", "adt_idle_timeout_seconds", "adt_max_connections"):
            if not getattr(self, name) > 0:
                raise ValueError(f"POINTCARE_{name.upper()} must be positive")
        if self.min_free_megabytes < 0 or self.reconcile_interval_minutes < 0:
            raise ValueError(
                "POINTCARE_MIN_FREE_MEGABYTES and POINTCARE_RECONCILE_INTERVAL_MINUTES must not "
                "be negative"
            )
        if self.reconcile_grace_minutes <= 0:
            raise ValueError("POINTCARE_RECONCILE_GRACE_MINUTES must be positive")

    def _check_delivery(self) -> None:
        if self.archive not in set(ArchiveKind):
            raise ValueError(
                f"POINTCARE_ARCHIVE must be 'builtin' or 'dicomweb', got {self.archive!r}"
            )
        if self.delivers_to_pacs and not self.dicomweb_url.startswith(("http://", "https://")):
            raise ValueError(
                "POINTCARE_DICOMWEB_URL must be set to an http:// or https:// URL when "
                "POINTCARE_ARCHIVE is 'dicomweb'"
            )
        if self.dicomweb_token and (self.dicomweb_username or self.dicomweb_password):
            raise ValueError(
                "set either POINTCARE_DICOMWEB_TOKEN or POINTCARE_DICOMWEB_USERNAME and "
                "POINTCARE_DICOMWEB_PASSWORD, not both"
            )
        if bool(self.dicomweb_username) != bool(self.dicomweb_password):
            raise ValueError(
                "POINTCARE_DICOMWEB_USERNAME and POINTCARE_DICOMWEB_PASSWORD go together"
            )
        for name in (
            "dicomweb_timeout_seconds",
            "delivery_batch_size",
            "delivery_concurrent_requests",
            "delivery_max_attempts",
            "delivery_backoff_seconds",
            "delivery_backoff_max_seconds",
            "delivery_poll_seconds",
            "delivery_batch_seconds",
        ):
            if not getattr(self, name) > 0:  # also refuses NaN
                raise ValueError(f"POINTCARE_{name.upper()} must be positive")
        if self.delivery_lease_seconds <= self.dicomweb_timeout_seconds:
            raise ValueError(
                "POINTCARE_DELIVERY_LEASE_SECONDS must be longer than "
                "POINTCARE_DICOMWEB_TIMEOUT_SECONDS"
            )
        if self.viewer_url and "{study}" not in self.viewer_url:
            raise ValueError("POINTCARE_VIEWER_URL must contain {study}")
        self._check_launch()

    def _check_launch(self) -> None:
        if not 0 <= self.launch_leeway_seconds <= 300:
            raise ValueError("POINTCARE_LAUNCH_LEEWAY_SECONDS must be between 0 and 300")
        keys = [k for k in (self.launch_issuer_secret, self.launch_issuer_jwks_url) if k]
        if self.launch_issuer and len(keys) != 1:
            raise ValueError(
                "POINTCARE_LAUNCH_ISSUER needs exactly one of POINTCARE_LAUNCH_ISSUER_SECRET "
                "(HS256) or POINTCARE_LAUNCH_ISSUER_JWKS_URL (RS256/ES256)"
            )
        if keys and not self.launch_issuer:
            raise ValueError(
                "POINTCARE_LAUNCH_ISSUER_SECRET and POINTCARE_LAUNCH_ISSUER_JWKS_URL need "
                "POINTCARE_LAUNCH_ISSUER"
            )

    @property
    def effective_launch_audience(self) -> str:
        """The ``aud`` launch tokens must name: this Pointcare."""
        return self.launch_audience or self.public_url.rstrip("/") or "pointcare"

    @property
    def delivers_to_pacs(self) -> bool:
        """A PACS is the archive: photos go through the delivery outbox."""
        return self.archive == ArchiveKind.DICOMWEB

    def viewer_link(self, study_instance_uid: str) -> str | None:
        """The external viewer's address for a study, when a viewer is configured."""
        if not self.viewer_url:
            return None
        return self.viewer_url.replace("{study}", quote(study_instance_uid, safe=""))

    @property
    def effective_audit_key(self) -> bytes:
        """The audit chain's HMAC key: ``AUDIT_KEY``, else one derived from the secret key (so
        that every node, sharing the secret key, keys the one chain alike)."""
        if self.audit_key:
            return self.audit_key.encode()
        if not self.secret_key:
            raise ValueError("no secret key yet: build settings with Settings.from_env()")
        return hmac.new(self.secret_key.encode(), b"pointcare audit chain", "sha256").digest()

    @property
    def effective_audit_checkpoint_file(self) -> Path:
        if self.audit_checkpoint_file:
            return Path(self.audit_checkpoint_file)
        return self.data_dir / "audit" / "checkpoints.jsonl"

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
            elif kind == "float":
                try:
                    values[f.name] = float(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{f.name.upper()} must be a number") from None
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
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=key_file.read_text().strip())


MIN_KEY_BYTES = 32
PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "replaceme", "placeholder")


def check_key(key: str, name: str) -> None:
    """Refuse a key an attacker could guess: short, a placeholder left from an example file,
    or a few characters repeated."""
    if len(key.encode()) < MIN_KEY_BYTES:
        raise ValueError(
            f"{name} must be at least {MIN_KEY_BYTES} bytes of random text "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    lowered = key.lower()
    if any(placeholder in lowered for placeholder in PLACEHOLDERS):
        raise ValueError(f"{name} is still the example's placeholder: set a random value")
    if len(set(key)) < 8:
        raise ValueError(f"{name} repeats a few characters: set a random value")


def proxy_networks(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """The networks of ``POINTCARE_TRUSTED_PROXIES`` (an address is a one-address network)."""
    networks = []
    for entry in raw.replace(" ", ",").split(","):
        if not entry.strip():
            continue
        try:
            networks.append(ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{entry.strip()!r} is not an address or network (e.g. 10.0.0.2, 10.0.0.0/24)"
            ) from None
    return tuple(networks)


_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def frame_ancestors_sources(raw: str) -> str:
    """The CSP ``frame-ancestors`` source list of ``POINTCARE_FRAME_ANCESTORS``, checked.

    Only ``'none'``, ``'self'`` and origins (scheme, host, optional port; no path, no
    wildcard scheme) are accepted: anything else could open Pointcare to any framing site."""
    sources = raw.replace(",", " ").split()
    if not sources:
        raise ValueError("give 'none', 'self' or the origins of the EHRs that embed Pointcare")
    for source in sources:
        if source in {"'none'", "'self'"}:
            continue
        if not _ORIGIN.fullmatch(source.rstrip("/")):
            raise ValueError(f"{source!r} is not an origin like https://ehr.hospital.org")
    if "'none'" in sources and len(sources) > 1:
        raise ValueError("'none' cannot be combined with other sources")
    return " ".join(source.rstrip("/") for source in sources)


def documented_variables() -> list[str]:
    """Names of every environment variable Pointcare reads (for docs and their test)."""
    return [ENV_PREFIX + f.name.upper() for f in fields(Settings)]


__all__ = ["ENV_PREFIX", "ArchiveKind", "Settings", "documented_variables"]
