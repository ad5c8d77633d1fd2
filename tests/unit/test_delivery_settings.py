"""Settings for delivery to a PACS: read from the environment, checked, documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from pointcare.settings import Settings

PACS = "http://127.0.0.1:8042/dicom-web"


def test_the_builtin_archive_is_the_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.archive == "builtin"
    assert not settings.delivers_to_pacs
    assert settings.dicomweb_verify_tls


def test_delivery_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POINTCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POINTCARE_ARCHIVE", "dicomweb")
    monkeypatch.setenv("POINTCARE_DICOMWEB_URL", PACS)
    monkeypatch.setenv("POINTCARE_DICOMWEB_TOKEN", "abc")
    monkeypatch.setenv("POINTCARE_DICOMWEB_VERIFY_TLS", "false")
    monkeypatch.setenv("POINTCARE_DICOMWEB_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("POINTCARE_DELIVERY_MAX_ATTEMPTS", "3")
    settings = Settings.from_env()
    assert settings.delivers_to_pacs
    assert (settings.dicomweb_url, settings.dicomweb_token) == (PACS, "abc")
    assert settings.dicomweb_verify_tls is False
    assert settings.dicomweb_timeout_seconds == 2.5
    assert settings.delivery_max_attempts == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"archive": "ftp"}, "POINTCARE_ARCHIVE must be 'builtin' or 'dicomweb'"),
        ({"archive": "dicomweb"}, "POINTCARE_DICOMWEB_URL must be set"),
        ({"archive": "dicomweb", "dicomweb_url": "pacs:8042"}, "POINTCARE_DICOMWEB_URL"),
        ({"dicomweb_token": "t", "dicomweb_username": "u", "dicomweb_password": "p"}, "not both"),
        ({"dicomweb_username": "u"}, "go together"),
        ({"delivery_max_attempts": 0}, "POINTCARE_DELIVERY_MAX_ATTEMPTS must be positive"),
        ({"delivery_backoff_seconds": float("nan")}, "BACKOFF_SECONDS must be positive"),
        (
            {"dicomweb_timeout_seconds": 30.0, "delivery_lease_seconds": 30.0},
            "LEASE_SECONDS must be longer",
        ),
        ({"viewer_url": "https://viewer/?study="}, "must contain {study}"),
    ],
)
def test_settings_that_cannot_work_are_refused(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_a_number_that_is_not_one_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POINTCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POINTCARE_DELIVERY_POLL_SECONDS", "soon")
    with pytest.raises(ValueError, match="POINTCARE_DELIVERY_POLL_SECONDS must be a number"):
        Settings.from_env()


def test_the_viewer_link_puts_the_study_into_the_template(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, viewer_url="https://viewer.example.org/viewer?StudyInstanceUIDs={study}"
    )
    assert settings.viewer_link("1.2.3") == (
        "https://viewer.example.org/viewer?StudyInstanceUIDs=1.2.3"
    )
    assert Settings(data_dir=tmp_path).viewer_link("1.2.3") is None
