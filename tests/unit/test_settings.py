from __future__ import annotations

import re
from pathlib import Path

import pytest

from pointcare.settings import Settings, documented_variables

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in documented_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env()
    assert settings.data_dir == Path("./var")
    assert (
        settings.effective_database_url
        == f"sqlite:///{(tmp_path / 'var' / 'pointcare.db').resolve()}"
    )
    assert settings.htmx_src == "cdn"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings.from_env(data_dir=tmp_path)
    second = Settings.from_env(data_dir=tmp_path)
    assert len(first.secret_key) >= 40
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POINTCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POINTCARE_MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("POINTCARE_SECURE_COOKIES", "yes")
    monkeypatch.setenv("POINTCARE_SECRET_KEY", "from-the-environment-and-long-enough-0123")
    settings = Settings.from_env()
    assert (settings.data_dir, settings.max_upload_bytes, settings.secure_cookies) == (
        tmp_path,
        1234,
        True,
    )
    assert settings.secret_key == "from-the-environment-and-long-enough-0123"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POINTCARE_MAX_UPLOAD_BYTES", "lots", "whole number"),
        ("POINTCARE_MAX_UPLOAD_BYTES", "0", "positive"),
        ("POINTCARE_SECURE_COOKIES", "maybe", "boolean"),
        ("POINTCARE_HTMX_SRC", "unpkg", "cdn"),
        ("POINTCARE_JPEG_QUALITY", "101", "between"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("POINTCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"`(POINTCARE_[A-Z_]+)`", text))
    missing = [name for name in documented_variables() if name not in documented]
    assert missing == [], f"README.md does not document {missing}"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("x", "at least 32 bytes"),
        ("too-short-for-hs256", "at least 32 bytes"),
        ("CHANGE-ME-the-same-long-random-value-on-every-node", "placeholder"),
        ("please-changeme-before-going-live-0123456789", "placeholder"),
        ("ab" * 32, "repeats"),
    ],
)
def test_a_guessable_secret_key_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str, message: str
) -> None:
    monkeypatch.setenv("POINTCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POINTCARE_SECRET_KEY", key)
    with pytest.raises(ValueError, match=f"POINTCARE_SECRET_KEY .*{message}"):
        Settings.from_env()
    monkeypatch.delenv("POINTCARE_SECRET_KEY")
    monkeypatch.setenv("POINTCARE_AUDIT_KEY", key)
    with pytest.raises(ValueError, match=f"POINTCARE_AUDIT_KEY .*{message}"):
        Settings.from_env()


def test_a_secret_key_file_edited_to_a_guessable_value_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("x\n")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings.from_env(data_dir=tmp_path)


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    assert Settings.from_env(data_dir=tmp_path, trusted_proxies="10.0.0.2, fd00::/8")
    with pytest.raises(ValueError, match=r"POINTCARE_TRUSTED_PROXIES: 'proxy\.internal'"):
        Settings.from_env(data_dir=tmp_path, trusted_proxies="proxy.internal")
