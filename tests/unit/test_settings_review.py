"""The settings summary on the admin's home: each topic safe or not, read from ``Settings``,
and never a secret in it."""

from __future__ import annotations

from pathlib import Path

from pointcare.launch.demo import demo_issuers_file
from pointcare.settings import Settings
from pointcare.settings_review import SettingState, review_settings

SECRET = "kq3L9vX2pT7wZ1mN8bR4cY6dF0gH5jS-random-enough"
AUDIT_KEY = "A7f9Qw2Ls8Kd3Xp6Zr1Vb4Nm0Hj5Tg-another-random"
PACS_PASSWORD = "pacs-password-never-shown"


def _unsafe(states: list[SettingState]) -> set[str]:
    return {state.topic.split(" (")[0] for state in states if not state.safe}


def test_a_fresh_server_is_told_what_is_not_set_safely(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=tmp_path)  # the key generated into the data folder
    states = review_settings(settings, over_https=False)
    assert _unsafe(states) == {"HTTPS", "Public address", "Archive", "Audit trail anchor key"}
    key = next(state for state in states if state.topic.startswith("Secret key"))
    assert key.safe and "Generated" in key.state
    assert all(state.advice for state in states if not state.safe)
    assert settings.secret_key not in repr(states)


def test_a_production_server_is_safe_and_shows_no_secret(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=SECRET,
        audit_key=AUDIT_KEY,
        public_url="https://photos.hospital.example",
        secure_cookies=True,
        archive="dicomweb",
        dicomweb_url="https://pacs.hospital.example:8443/dicom-web",
        dicomweb_username="pointcare",
        dicomweb_password=PACS_PASSWORD,
    )
    states = review_settings(settings, over_https=True)
    assert _unsafe(states) == set()
    shown = repr(states)
    for secret in (SECRET, AUDIT_KEY, PACS_PASSWORD):
        assert secret not in shown
    assert "pacs.hospital.example:8443" in shown


def test_half_done_transport_and_a_demo_are_named(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key=SECRET,
        public_url="http://photos.hospital.example",
        archive="dicomweb",
        dicomweb_url="http://pacs.hospital.example/dicom-web",
        launch_issuers_file=str(demo_issuers_file(tmp_path)),
    )
    states = {
        state.topic.split(" (")[0]: state for state in review_settings(settings, over_https=True)
    }
    assert "not marked Secure" in states["HTTPS"].state
    assert "not an HTTPS address" in states["Public address"].state
    assert "without a verified HTTPS connection" in states["Archive"].state
    assert not states["Demo mode"].safe
    assert states["Secret key"].safe and "Set" in states["Secret key"].state
