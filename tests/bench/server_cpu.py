"""The fast path's server CPU per photo against its own floor (issue 26, scenario 4).

The floor is the least work a validating server must do for one upright 12 MP JPEG it keeps
as sent: decode it whole at 1/8 scale (every entropy-coded byte read, so a truncated or corrupt
photo fails) and hash it (SHA-256), in this process, one thread, CPU time
(``time.process_time``). The server's figure is the CPU its whole process group spent (user
plus system, all threads, from ``/proc``) divided by the photos it stored in a run of
``CLIENTS`` clients. Rounds alternate a floor run and a server run, so that both see the same
machine (its speed drifts by tens of percent within minutes when others use it).

Each round also sends the same photo twice more, to see where the CPU beyond the floor goes:
- without its patient, refused once the server has read the form: what any upload costs in
  this stack before its photo is looked at (the HTTP exchange, signing in, reading the 1.5 MB
  form, a problem answer);
- to ``/api/v1/photos/inspect``, which checks the photo as an upload does (the same validating
  decode, the patient and duplicate checks) and makes its preview, but stores nothing: the
  same stack without the store (the DICOM object, both durable files, the transaction).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.harness import (
    Bench,
    Request,
    bearer_token,
    drive,
    fmt,
    pointcare_client,
    subprocess_env,
)
from tests.bench.profiling import Profile
from tests.bench.report import NOT_MEASURED, summary

KEY = "server_cpu_vs_floor"
CLIENTS = 4
TARGET = 1.5


def floor_once(photo: bytes) -> None:
    """Decode ``photo`` whole at 1/8 scale and hash it: what the fast path cannot skip."""
    from PIL import Image

    with Image.open(io.BytesIO(photo), formats=["JPEG"]) as image:
        image.draft("RGB", (image.width // 8, image.height // 8))
        image.decodermaxblock = len(photo)
        image.load()
    hashlib.sha256(photo).digest()


def group_cpu_seconds(group: int) -> tuple[float, float]:
    """User and system CPU of every process in process group ``group`` (the server and any
    process it started), in seconds."""
    user = system = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            user += int(fields[11])
            system += int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def served_cpu(
    server_pid: int, make_client: Callable[[], Any], request: Request, count: int
) -> tuple[float, float]:
    """The server's CPU per request over ``count`` requests by ``CLIENTS`` clients, and the part
    of it in the kernel, in ms."""
    user, system = group_cpu_seconds(server_pid)
    run_ = drive(make_client, request, clients=CLIENTS, count=count, time_cap=600)
    user_after, system_after = group_cpu_seconds(server_pid)
    if run_.errors or not run_.ok:
        raise RuntimeError(f"server CPU round failed: {run_.errors[:1]}")
    used = user_after - user + system_after - system
    return used * 1000 / run_.ok, (system_after - system) * 1000 / run_.ok


def run(bench: Bench, *, rounds: int, photos: int, label: str = "") -> dict[str, Any]:
    from tests.support.server import LiveServer

    photo = bench.photos.upright
    data_dir = bench.work / "server-cpu"
    iterations = 20
    floors, served, ratios, kernel, fixed, looked, beyond = [], [], [], [], [], [], []
    try:
        with LiveServer(demo=True, data_dir=data_dir, env=subprocess_env()) as server:
            make_client = pointcare_client(server.url, bearer_token(data_dir))
            request = bench.ingest_request(photo, "upright.jpg", "image/jpeg")
            refused = bench.ingest_request(photo, "upright.jpg", "image/jpeg", answer="refused")
            inspect = bench.ingest_request(photo, "upright.jpg", "image/jpeg", answer="looked at")
            for warm in (request, refused, inspect):
                drive(make_client, warm, clients=CLIENTS, count=2 * CLIENTS, time_cap=60)
            for _ in range(rounds):
                times = []
                for _ in range(iterations):
                    start = time.process_time()
                    floor_once(photo)
                    times.append(time.process_time() - start)
                floor_ms = statistics.median(times) * 1000
                server_ms, kernel_ms = served_cpu(server.pid, make_client, request, photos)
                fixed_ms, _ = served_cpu(server.pid, make_client, refused, photos)
                looked_ms, _ = served_cpu(server.pid, make_client, inspect, photos)
                floors.append(floor_ms)
                served.append(server_ms)
                kernel.append(kernel_ms)
                ratios.append(server_ms / floor_ms)
                fixed.append(fixed_ms)
                looked.append(looked_ms / floor_ms)
                beyond.append(server_ms - floor_ms - fixed_ms)
            for name, gil in ((f"server{label}", False), (f"server{label}_gil", True)):
                with Profile.of(bench, name, server.pid, gil=gil):
                    if bench.config.profile:
                        drive(make_client, request, clients=CLIENTS, count=3 * photos, time_cap=600)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    out = {
        "rounds": rounds,
        "photos_per_round": photos,
        "clients": CLIENTS,
        "floor_iterations_per_round": iterations,
        "server_cpu_ms_per_photo": summary(served),
        "server_system_cpu_ms_per_photo": summary(kernel),
        "floor_cpu_ms_per_photo": summary(floors),
        "server_over_floor": summary(ratios),
        "refused_upload_cpu_ms": summary(fixed),
        "inspected_over_floor": summary(looked),
        "beyond_floor_and_refused_upload_ms": summary(beyond),
    }
    bench.log(
        f"  server CPU {fmt(out['server_cpu_ms_per_photo'])} ms/photo, floor "
        f"{fmt(out['floor_cpu_ms_per_photo'])} ms; ratio {fmt(out['server_over_floor'], 2)}; "
        f"the same upload refused once read {fmt(out['refused_upload_cpu_ms'])} ms; looked at "
        f"and not stored {fmt(out['inspected_over_floor'], 2)}x the floor"
    )
    return out


def target(results: dict[str, Any]) -> tuple[str, str, str]:
    block = results.get(KEY, {})
    name = (
        f"fast path: server CPU per photo <= {TARGET}x the floor (1/8-scale validating decode "
        f"+ SHA-256), {CLIENTS} clients"
    )
    if "server_over_floor" not in block:
        return name, "-", NOT_MEASURED
    figure = (
        f"{fmt(block['server_over_floor'], 2)}x ({fmt(block['server_cpu_ms_per_photo'])} ms "
        f"against {fmt(block['floor_cpu_ms_per_photo'])} ms)"
    )
    return name, figure, "met" if block["server_over_floor"]["median"] <= TARGET else "MISSED"


def markdown(results: dict[str, Any]) -> list[str]:
    block = results.get(KEY, {})
    if "server_over_floor" not in block:
        return []
    lines = [
        "#### Fast path: server CPU per photo against its floor",
        "",
        f"{block['rounds']} rounds, each a floor run ({block['floor_iterations_per_round']} "
        f"decodes in this process) then {block['photos_per_round']} photos to the server by "
        f"{block['clients']} clients (and as many refused and looked-at uploads, below); median "
        "(min–max) over the rounds.",
        "",
        f"- server process group CPU: {fmt(block['server_cpu_ms_per_photo'])} ms per photo, of "
        f"which in the kernel (writes, fsyncs, sockets): "
        f"{fmt(block.get('server_system_cpu_ms_per_photo'))} ms",
        f"- floor (1/8-scale validating decode + SHA-256): "
        f"{fmt(block['floor_cpu_ms_per_photo'])} ms",
        f"- ratio per round: {fmt(block['server_over_floor'], 2)}",
    ]
    if "refused_upload_cpu_ms" in block:
        lines += [
            f"- the same upload without its patient, refused once its form is read (the HTTP "
            f"exchange, signing in, reading the form, a problem answer): "
            f"{fmt(block['refused_upload_cpu_ms'])} ms",
            f"- left beyond the floor and that request, per round (the photo's other work, the "
            f"DICOM object, both files, the transaction): "
            f"{fmt(block['beyond_floor_and_refused_upload_ms'])} ms",
        ]
    if "inspected_over_floor" in block:
        lines.append(
            f"- the same photo looked at and not stored (`/api/v1/photos/inspect`: the same "
            f"checks and decode, a preview, no store), over the floor: "
            f"{fmt(block['inspected_over_floor'], 2)}"
        )
    return [*lines, ""]


def ratio(results: dict[str, Any]) -> float | None:
    block = results.get(KEY, {})
    return block["server_over_floor"]["median"] if "server_over_floor" in block else None
