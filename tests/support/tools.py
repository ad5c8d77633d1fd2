"""External tools the tests need (dciodvfy, Orthanc, Chromium, PostgreSQL).

Locally a missing tool skips the tests that need it; under ``CI=true`` it fails them, so a CI
machine that lacks an install step can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = Path(os.environ.get("POINTCARE_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


def require_tool(name: str) -> str:
    """Path of the executable ``name``; skips (locally) or fails (CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        missing(f"the tool {name!r}")
        raise AssertionError("unreachable")
    return path


def require_turbojpeg() -> None:
    """Skips (locally) or fails (CI) when libturbojpeg is missing: it turns JPEGs losslessly and
    re-encodes them through their planes."""
    from pointcare.imaging import turbojpeg

    if not turbojpeg.available():
        missing("libturbojpeg (Debian package libturbojpeg0)")


def corpus(*parts: str) -> Path:
    """A path inside the shared real-world corpus; skips or fails when the corpus is absent."""
    path = CORPUS_DIR.joinpath(*parts)
    if not path.exists():
        missing(f"the corpus file {path}")
    return path
