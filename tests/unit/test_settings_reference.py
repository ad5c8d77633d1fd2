"""The settings reference in docs/ is the one the Settings docstrings give."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from pointcare.settings import Settings
from pointcare.settings_reference import field_docstrings, render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_has_a_docstring() -> None:
    documented = field_docstrings()
    assert [f.name for f in fields(Settings) if f.name not in documented] == []


def test_the_committed_reference_is_the_one_the_docstrings_give() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), "run make docs"


def test_a_setting_reads_as_its_variable_default_and_meaning() -> None:
    row = next(line for line in render().splitlines() if "`POINTCARE_JPEG_QUALITY`" in line)
    assert row.startswith("| `POINTCARE_JPEG_QUALITY` | `95` | JPEG quality used when a photo")
