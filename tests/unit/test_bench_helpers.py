"""The benchmark's measuring helpers (the benchmark itself is ``make bench``, not a test)."""

from __future__ import annotations

import io
import os
import time

import pytest

from tests.bench.harness import (
    RETIRED,
    Bench,
    Config,
    Run,
    combine,
    cpu_seconds,
    machine,
    markdown,
    paired_block,
    pillow_floor,
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
    pillow_floor(iphone, transform)  # runs the whole colour-managed floor on the real photo


def _run(photos_per_s: float, count: int = 40) -> Run:
    return Run(clients=4, latencies=[0.1] * count, sent_bytes=count, wall=count / photos_per_s)


def test_the_paired_ratios_are_shown_beside_the_verdicts_they_do_not_change() -> None:
    bench = Bench.__new__(Bench)  # no photos, no folders: only the report is under test
    bench.config = Config(quick=False, repeat=1)
    stow_rounds = [(30.0, 100.0), (32.0, 80.0)]
    create_rounds = [(30.0, 5.0), (32.0, 4.0)]
    bench.results = {
        "1_ingest_fast": {"4": combine([_run(44.0)])},
        "3_orthanc_stow": {
            "4": combine([_run(40.0)]),
            "paired_x4": paired_block(stow_rounds, 4, 40, "the objects it stored, by STOW-RS"),
        },
        "4_orthanc_create_dicom": {
            "4": combine([_run(4.0)]),
            "paired_x4": paired_block(create_rounds, 4, 40, "as many photos to its converter"),
        },
    }

    ratios = bench.ratios()
    stow_row, create_row = bench.targets(ratios)[:2]

    assert ratios["pointcare_over_orthanc_stow_x4"] == pytest.approx(1.1)
    assert ratios["pointcare_over_orthanc_stow_paired_x4"] == pytest.approx(0.35)
    assert ratios["pointcare_over_orthanc_create_x4"] == pytest.approx(11.0)
    assert ratios["pointcare_over_orthanc_create_paired_x4"] == pytest.approx(7.0)
    # Issue 26 retired both targets: their figures are reported, never judged.
    assert stow_row == (
        "fast path x4 against Orthanc STOW-RS (parity)",
        "1.10x (0.35x in paired rounds, run for run)",
        RETIRED,
    )
    assert create_row == (
        "fast path x4 against Orthanc create-dicom throughput (10x)",
        "11.00x (7.00x in paired rounds, run for run)",
        RETIRED,
    )
    report = markdown(
        {
            "machine": machine(),
            "config": {"quick": False, "repeat": 1, "requests_per_run": {}, "time_cap_s": 60},
            "results": bench.results,
            "targets": [],
        }
    )
    assert (
        "\n\n- Paired with the fast path, 2 rounds of 40 photos at 4 clients (a run to our "
        "server, then the objects it stored, by STOW-RS): ours 31.00 (30.00–32.00) photos/s, "
        "Orthanc's 90.00 (80.00–100.00); ratio per round 0.35 (0.30–0.40)\n"
    ) in report
    assert (
        "\n\n- Paired with the fast path, 2 rounds of 40 photos at 4 clients (a run to our "
        "server, then as many photos to its converter): ours 31.00 (30.00–32.00) photos/s, "
        "Orthanc's 4.50 (4.00–5.00); ratio per round 7.00 (6.00–8.00)\n"
    ) in report


def test_only_takes_a_comma_list_of_known_scenarios() -> None:
    import argparse

    from tests.bench.harness import scenario_names

    assert scenario_names("shutter, phone_pages") == ("shutter", "phone_pages")
    assert scenario_names("ingest,search") == ("ingest", "search")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown scenario bogus"):
        scenario_names("ingest,bogus")


def test_the_shutter_floor_is_the_bytes_over_the_bandwidth_plus_two_round_trips() -> None:
    from tests.bench.shutter import Profile

    ward = Profile("ward_wifi", up_mbit_s=20, rtt_ms=40)
    assert ward.floor_ms(2_500_000) == pytest.approx(1000 + 80)


def test_shutter_and_phone_page_verdicts() -> None:
    from tests.bench import phone_pages, shutter

    def spread(value: float, low: float, high: float) -> dict[str, float]:
        return {"median": value, "min": low, "max": high}

    def profile(ratio: float, sent: float) -> dict[str, object]:
        return {
            "over_floor": spread(ratio, ratio - 0.05, ratio + 0.3),
            "send_to_stored_ms": spread(300, 280, 400),
            "floor_ms": spread(250, 250, 250),
            "bytes_sent": spread(sent, sent, sent),
        }

    results = {
        shutter.KEY: {
            "camera": {"camera_jpeg_bytes": 400_000},
            "ward_wifi": profile(1.15, 390_000),
            "poor": profile(1.25, 401_000),
        },
        phone_pages.KEY: {"login": {"performance": spread(99, 97, 100)}},
    }
    met = [verdict for _, _, verdict in shutter.target_rows(results)]
    assert met == [True, False, False]  # poor is over 1.2x; 401 kB is more than the camera's 400
    pages = {t.split(" on ")[1].split()[0]: ok for t, _, ok in phone_pages.target_rows(results)}
    assert pages == {"login": True, "home": None, "scan": None, "capture": None}
    absent = {shutter.KEY: {"status": "not measured", "why": "no chromium"}}
    assert "not measured: no chromium" in shutter.markdown_lines(absent)


def test_a_wide_gamut_photo_is_judged_against_the_floor_that_converts_its_colours() -> None:
    bench = Bench.__new__(Bench)
    bench.results = {"2_ingest_reencode": {"p3.heic": {}, "rotated.jpg": {}}}
    rows = {
        target: (figure, judged)
        for target, figure, judged in bench.targets(
            {
                "server_over_floor_paired_p3.heic": 1.41,
                "server_over_colour_managed_floor_paired_p3.heic": 0.92,
                "server_over_floor_paired_rotated.jpg": 1.30,
            }
        )
        if target.startswith("re-encode")
    }
    heic, jpeg = (
        rows[
            f"re-encode path <= 1.25x Pillow floor: {name} (1 client, each request next to a "
            "floor run; colour-converting for wide-gamut photos)"
        ]
        for name in ("p3.heic", "rotated.jpg")
    )
    assert heic == (
        "0.92x of the floor that also converts its colours to sRGB (1.41x of the plain floor)",
        "met",
    )
    assert jpeg == ("1.30x", "MISSED")


def test_the_cpu_report_says_where_the_cpu_beyond_the_floor_goes() -> None:
    from tests.bench import server_cpu
    from tests.bench.report import summary

    block: dict[str, object] = {
        "rounds": 2,
        "photos_per_round": 40,
        "clients": 4,
        "floor_iterations_per_round": 20,
        "server_cpu_ms_per_photo": summary([33.0, 35.0]),
        "server_system_cpu_ms_per_photo": summary([3.0, 3.2]),
        "floor_cpu_ms_per_photo": summary([16.0, 16.2]),
        "server_over_floor": summary([2.06, 2.16]),
    }
    before = "\n".join(server_cpu.markdown({server_cpu.KEY: block}))  # a report of last session
    assert "ratio per round: 2.11 (2.06–2.16)" in before
    assert "refused" not in before.split("below")[1]
    assert server_cpu.target({server_cpu.KEY: block})[2] == "MISSED"

    block |= {
        "refused_upload_cpu_ms": summary([3.5, 4.1]),
        "beyond_floor_and_refused_upload_ms": summary([13.5, 14.7]),
        "inspected_over_floor": summary([1.5, 1.6]),
    }
    now = "\n".join(server_cpu.markdown({server_cpu.KEY: block}))
    assert "refused once its form is read (the HTTP exchange" in now
    assert ": 3.8 (3.5–4.1) ms" in now
    assert "the transaction): 14.1 (13.5–14.7) ms" in now
    assert "no store), over the floor: 1.55 (1.50–1.60)" in now
