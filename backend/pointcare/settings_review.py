"""What an administrator should know about this server's settings: what is set, and what is not
set safely, in words, read from the running ``Settings``. No secret is ever part of it: a key
is described ("set", "generated"), a PACS by its host alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pointcare.launch.demo import DEMO_ISSUERS_FILE
from pointcare.settings import Settings


@dataclass(frozen=True, slots=True)
class SettingState:
    topic: str
    safe: bool
    state: str
    """What is set, in words."""
    advice: str = ""
    """What to set when it is not safe (empty when it is)."""


def review_settings(settings: Settings, *, over_https: bool) -> list[SettingState]:
    """Each topic in turn, those not set safely included; ``over_https``: the request being
    answered came over HTTPS (directly, or through a trusted proxy)."""
    return [
        _secret_key(settings),
        _transport(settings, over_https=over_https),
        _public_url(settings),
        _archive(settings),
        _audit_anchor(settings),
        _demo(settings),
    ]


def _secret_key(settings: Settings) -> SettingState:
    """Always safe on a running server: a short, repeated or placeholder key stops start-up
    (``check_key``); what is left to say is where it came from."""
    topic = "Secret key (signs forms and API tokens)"
    generated = settings.data_dir / "secret_key"
    if _holds(generated, settings.secret_key):
        return SettingState(
            topic,
            True,
            "Generated at first start and kept in the data folder (readable by Pointcare "
            "only). Several nodes need one shared POINTCARE_SECRET_KEY.",
        )
    return SettingState(topic, True, "Set (POINTCARE_SECRET_KEY); long and random.")


def _transport(settings: Settings, *, over_https: bool) -> SettingState:
    topic = "HTTPS"
    if not over_https:
        return SettingState(
            topic,
            False,
            "This page came over plain HTTP: passwords, photos and patient details cross the "
            "network readable by anyone on it.",
            "Serve with pointcare serve --tls, or behind a TLS reverse proxy "
            "(POINTCARE_TRUSTED_PROXIES), and set POINTCARE_SECURE_COOKIES=true.",
        )
    if not settings.secure_cookies:
        return SettingState(
            topic,
            False,
            "Served over HTTPS, but the session cookie is not marked Secure: a browser would "
            "also send it over plain HTTP.",
            "Set POINTCARE_SECURE_COOKIES=true.",
        )
    return SettingState(topic, True, "Over HTTPS; the session cookie is sent over HTTPS only.")


def _public_url(settings: Settings) -> SettingState:
    topic = "Public address (POINTCARE_PUBLIC_URL)"
    if not settings.public_url:
        return SettingState(
            topic,
            False,
            "Not set: links written into DICOMweb answers and the EHR launch audience follow "
            "the address each request came to.",
            "Set POINTCARE_PUBLIC_URL to the https:// address phones and the EHR use.",
        )
    if not settings.public_url.startswith("https://"):
        return SettingState(
            topic,
            False,
            f"{settings.public_url}: not an HTTPS address.",
            "Use the https:// address of the server.",
        )
    return SettingState(topic, True, settings.public_url)


def _archive(settings: Settings) -> SettingState:
    topic = "Archive (PACS)"
    if not settings.delivers_to_pacs:
        return SettingState(
            topic,
            False,
            "Built-in archive: photos stay on this server, not in the hospital's PACS, and its "
            "backups are this server's.",
            "Set POINTCARE_ARCHIVE=dicomweb and POINTCARE_DICOMWEB_URL to deliver to the PACS.",
        )
    parts = urlsplit(settings.dicomweb_url)
    where = parts.hostname or "?"
    if parts.port:
        where += f":{parts.port}"
    if parts.scheme != "https" or not settings.dicomweb_verify_tls:
        return SettingState(
            topic,
            False,
            f"Delivering to the PACS at {where} without a verified HTTPS connection.",
            "Use an https:// POINTCARE_DICOMWEB_URL and keep POINTCARE_DICOMWEB_VERIFY_TLS on "
            "(POINTCARE_DICOMWEB_CA_BUNDLE for the hospital's CA).",
        )
    return SettingState(topic, True, f"Delivering to the PACS at {where} over verified HTTPS.")


def _audit_anchor(settings: Settings) -> SettingState:
    topic = "Audit trail anchor key (POINTCARE_AUDIT_KEY)"
    if not settings.audit_key:
        return SettingState(
            topic,
            False,
            "Not set: the audit chain is keyed from the secret key, so whoever holds that key "
            "and the database could rewrite the trail unnoticed.",
            "Set POINTCARE_AUDIT_KEY to its own random key, held apart from the secret key, "
            "and POINTCARE_AUDIT_CHECKPOINT_FILE outside the data folder.",
        )
    return SettingState(topic, True, "Set, apart from the secret key.")


def _demo(settings: Settings) -> SettingState:
    topic = "Demo mode"
    if Path(settings.launch_issuers_file).name == DEMO_ISSUERS_FILE:
        return SettingState(
            topic,
            False,
            "On: the demo EHR is trusted for launches, and the demo accounts' passwords are "
            "published.",
            "Never use this server for real patients: start without --demo on an empty data "
            "folder.",
        )
    return SettingState(topic, True, "Off.")


def _holds(path: Path, value: str) -> bool:
    try:
        return path.read_text().strip() == value
    except OSError:
        return False
