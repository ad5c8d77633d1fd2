"""Pillow keeps freed image memory for the next photo, unless the operator says otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import _imaging as pillow_core

from pointcare.imaging.photo import BLOCKS_PER_DECODE, keep_image_memory


@pytest.fixture(autouse=True)
def pillow_setting() -> Iterator[None]:
    before = pillow_core.get_blocks_max()
    yield
    pillow_core.set_blocks_max(before)


def test_blocks_are_kept_for_each_concurrent_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILLOW_BLOCKS_MAX", raising=False)
    keep_image_memory(4)
    assert pillow_core.get_blocks_max() == 4 * BLOCKS_PER_DECODE
    keep_image_memory(0)  # at least one decode's worth
    assert pillow_core.get_blocks_max() == BLOCKS_PER_DECODE


def test_the_operators_pillow_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    pillow_core.set_blocks_max(3)
    monkeypatch.setenv("PILLOW_BLOCKS_MAX", "3")
    keep_image_memory(4)
    assert pillow_core.get_blocks_max() == 3
