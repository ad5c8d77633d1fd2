"""Fixtures for the imaging tests: corpus listings and photos normalised once per session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pointcare.imaging.photo import NormalisedPhoto, normalise_photo
from tests.support.tools import CORPUS_DIR, corpus

MAX_PIXELS = 50_000_000
ACCEPTED_FOLDERS = ("gps", "orientation", "heic", "phone", "odd-exif")


def corpus_names(folder: str) -> list[str]:
    """File names in photos/<folder>, for parametrisation (empty when the corpus is absent;
    ``test_corpus_is_present`` then skips locally or fails in CI)."""
    directory = CORPUS_DIR / "photos" / folder
    return sorted(p.name for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


def accepted_photos() -> list[tuple[str, str]]:
    return [(folder, name) for folder in ACCEPTED_FOLDERS for name in corpus_names(folder)]


NormaliseCorpus = Callable[[str, str], NormalisedPhoto]


@pytest.fixture(scope="session")
def normalised() -> NormaliseCorpus:
    """Normalise a corpus photo, once per session (HEIC decoding takes half a second)."""
    cache: dict[tuple[str, str], NormalisedPhoto] = {}

    def get(folder: str, name: str) -> NormalisedPhoto:
        if (folder, name) not in cache:
            data = corpus("photos", folder, name).read_bytes()
            cache[folder, name] = normalise_photo(data, max_pixels=MAX_PIXELS)
        return cache[folder, name]

    return get
