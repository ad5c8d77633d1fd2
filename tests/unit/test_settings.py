from __future__ import annotations

from pathlib import Path

import pytest

from pointcare.settings import Settings, documented_variables


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
