"""The benchmark's measuring helpers (the benchmark itself is ``make bench``, not a test)."""

from __future__ import annotations

import io
import os
import time

from tests.bench.harness import (
    Run,
    combine,
    cpu_seconds,
    pillow_colour_floor,
    wide_gamut_transform,
    with_cpu,
)
from tests.support.tools import corpus


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_counts_what_the_process_spent() -> None:
    before = cpu_seconds(os.getpid())
    _burn(0.3)
    assert cpu_seconds(os.getpid()) - before >= 0.25


def test_cpu_per_photo_divides_by_the_photos_answered() -> None:
    def timed() -> Run:
        _burn(0.2)
        return Run(clients=1, latencies=[0.01] * 4, errors=["HTTP 500: not counted"])

    run, extra = with_cpu(os.getpid(), timed)

    assert run.ok == 4
    assert 45 <= extra["server_cpu_ms_per_photo"] <= 80
    combined = combine([run], [extra])
    assert combined["server_cpu_ms_per_photo"]["median"] == extra["server_cpu_ms_per_photo"]


def test_no_cpu_figure_without_a_process() -> None:
    run, extra = with_cpu(None, lambda: Run(clients=1, latencies=[0.01]))

    assert run.ok == 1
    assert extra == {}


def test_the_colour_managed_floor_is_only_for_photos_that_are_not_srgb() -> None:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    iphone = corpus("photos", "heic", "iphone_IMG_5195.heic").read_bytes()
    plain = io.BytesIO()
    Image.new("RGB", (64, 48), "tan").save(plain, "JPEG")

    assert wide_gamut_transform(plain.getvalue()) is None
    transform = wide_gamut_transform(iphone)
    assert transform is not None
    pillow_colour_floor(iphone, transform)  # runs the whole floor on the real photo
