"""Delivery to the PACS against Orthanc's own forwarding (issue 26, scenario 1).

Each round stores N photos in a Pointcare server that does not deliver (``--no-forwarder``),
so they wait in its outbox, and hard-links their spool copies aside. Then, in an order that
alternates between rounds (the machine's speed drifts; neighbours share the drift):

- **Pointcare**: a ``pointcare worker`` delivers the outbox to a fresh Orthanc "PACS", timed
  from the moment it says it is delivering (its Python start-up is left out, as a worker runs
  for months) until the PACS holds all N (``/statistics``, polled every 50 ms);
- **Orthanc**: a second Orthanc, which holds the very same objects (uploaded before the clock
  starts), sends them all to another fresh Orthanc with its DICOMweb plugin's
  ``POST /dicom-web/servers/{pacs}/stow`` (synchronous: timed until it answers).

Both PACSes are checked to hold exactly N instances afterwards: each photo once.

Then the backlog: 3,600 photos in the outbox (a PACS outage of an hour at a photo a second),
drained by one worker into a fresh PACS, timed the same way.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.bench.harness import Bench, bearer_token, drive, fmt, pointcare_client, subprocess_env
from tests.bench.profiling import Profile
from tests.bench.report import NOT_MEASURED, summary

KEY = "delivery_vs_orthanc"
PACS = "pacs"
BACKLOG = 3600
ROUND_PHOTOS = 500
FILL_CLIENTS = 4
POLL_SECONDS = 0.05


def run(bench: Bench, *, photos: int, rounds: int, backlog: int) -> dict[str, Any]:
    """The scenario's figures (``bench.results[KEY]``)."""
    if shutil.which("Orthanc") is None:
        return {"status": NOT_MEASURED, "why": "Orthanc is not installed"}
    from tests.support.orthanc import Orthanc
    from tests.support.server import LiveServer

    data_dir = bench.work / "delivery-vs-orthanc"
    aside = bench.work / "delivery-objects"
    placeholder = Orthanc.create()  # the server's PACS setting; it never sends (--no-forwarder)
    source = Orthanc.create().start()
    ours, theirs, ratios = [], [], []
    out: dict[str, Any] = {"photos_per_round": photos, "rounds": rounds}
    try:
        env = {**subprocess_env(), **placeholder.env()}
        with LiveServer(
            demo=True, data_dir=data_dir, env=env, extra_args=["--no-forwarder"]
        ) as server:
            fill = _filler(bench, server, data_dir, env)
            if demo := _pending(data_dir):  # the demo's own photos: out of the way first
                with _fresh_pacs() as pacs:
                    _worker_delivers(bench, data_dir, pacs, demo)
            for index in range(rounds):
                objects = fill(photos, aside)
                uploaded = _upload(source, objects)
                sides: dict[str, float] = {}
                order = ("pointcare", "orthanc") if index % 2 == 0 else ("orthanc", "pointcare")
                for side in order:
                    with _fresh_pacs() as pacs:
                        if side == "pointcare":
                            seconds = _worker_delivers(bench, data_dir, pacs, photos)
                        else:
                            seconds = _orthanc_forwards(source, pacs, uploaded)
                        held = _instances(pacs)
                        if held != photos:
                            raise RuntimeError(f"{side}: the PACS holds {held} of {photos}")
                    sides[side] = photos / seconds
                _delete(source, uploaded)
                shutil.rmtree(aside, ignore_errors=True)
                ours.append(sides["pointcare"])
                theirs.append(sides["orthanc"])
                ratios.append(sides["pointcare"] / sides["orthanc"])
                bench.log(
                    f"  round {index + 1}: Pointcare {sides['pointcare']:.1f} photos/s, "
                    f"Orthanc {sides['orthanc']:.1f} photos/s, ratio {ratios[-1]:.2f}"
                )
            out["pointcare_photos_per_s"] = summary(ours)
            out["orthanc_photos_per_s"] = summary(theirs)
            out["pointcare_over_orthanc"] = summary(ratios)
            if backlog:
                bench.log(f"  backlog: filling the outbox with {backlog} photos")
                fill(backlog, None)
                with _fresh_pacs() as pacs:
                    seconds = _worker_delivers(bench, data_dir, pacs, backlog, profile="worker")
                    held = _instances(pacs)
                if held != backlog:
                    raise RuntimeError(f"backlog: the PACS holds {held} of {backlog}")
                out["backlog_photos"] = backlog
                out["backlog_drain_s"] = round(seconds, 1)
                out["backlog_photos_per_s"] = backlog / seconds
                bench.log(f"  backlog of {backlog} drained in {seconds:.0f} s")
    finally:
        source.remove()
        placeholder.remove()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
    out["settings"] = {
        k: v for k, v in os.environ.items() if k.startswith("POINTCARE_DELIVERY_")
    } or "defaults"
    return out


def _pending(data_dir: Path) -> int:
    """Deliveries waiting in the server's outbox (read from its SQLite database)."""
    with sqlite3.connect(f"file:{data_dir / 'pointcare.db'}?mode=ro", uri=True) as db:
        [(count,)] = db.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'")
    return int(count)


def _filler(
    bench: Bench, server: Any, data_dir: Path, env: dict[str, str]
) -> Callable[[int, Path | None], list[Path]]:
    """Stores ``count`` photos (4 clients, the real ingest); with a folder, hard-links the
    objects it stored there (the spool copies go once delivered) and returns their paths."""
    request = bench.ingest_request(bench.photos.upright, "upright.jpg", "image/jpeg")
    objects_dir = data_dir / "archive" / "objects"

    def fill(count: int, aside: Path | None) -> list[Path]:
        make_client = pointcare_client(server.url, bearer_token(data_dir, env=env))  # tokens expire
        before = set(objects_dir.rglob("*.dcm")) if objects_dir.exists() else set()
        filled = drive(make_client, request, clients=FILL_CLIENTS, count=count, time_cap=3600)
        if filled.errors or filled.ok != count:
            raise RuntimeError(f"filling the outbox: {filled.ok} of {count}, {filled.errors[:1]}")
        if aside is None:
            return []
        aside.mkdir(parents=True, exist_ok=True)
        linked = []
        for number, path in enumerate(sorted(set(objects_dir.rglob("*.dcm")) - before)):
            target = aside / f"{number:05d}.dcm"
            os.link(path, target)
            linked.append(target)
        if len(linked) != count:
            raise RuntimeError(f"{len(linked)} new objects for {count} photos")
        return linked

    return fill


@contextmanager
def _fresh_pacs() -> Iterator[Any]:
    from tests.support.orthanc import Orthanc

    pacs = Orthanc.create().start()
    try:
        yield pacs
    finally:
        pacs.remove()


def _rest(orthanc: Any) -> httpx.Client:
    return httpx.Client(
        base_url=orthanc.url, auth=(orthanc.user, orthanc.password), timeout=600, trust_env=False
    )


def _instances(orthanc: Any) -> int:
    with _rest(orthanc) as client:
        answer = client.get("/statistics")
        answer.raise_for_status()
        return int(answer.json()["CountInstances"])


def _worker_delivers(
    bench: Bench, data_dir: Path, pacs: Any, expected: int, profile: str | None = None
) -> float:
    """Seconds from the worker's "delivering" line until ``pacs`` holds ``expected``."""
    env = {**subprocess_env(), **pacs.env(), "POINTCARE_DATA_DIR": str(data_dir)}
    log_path = bench.work / "worker.log"
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "pointcare", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    assert worker.stdout is not None
    try:
        line = worker.stdout.readline().decode()
        if "delivering" not in line:
            raise RuntimeError(f"the worker did not start: {line!r}; see {log_path}")
        start = time.perf_counter()
        deadline = time.monotonic() + max(600.0, expected)
        with Profile.of(bench, profile, worker.pid):
            while _instances(pacs) < expected:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"the worker delivered {_instances(pacs)} of {expected}")
                time.sleep(POLL_SECONDS)
            seconds = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return seconds


def _upload(source: Any, objects: list[Path]) -> list[str]:
    """The objects stored in the source Orthanc (untimed), as its instance ids."""
    ids: list[str] = []
    lock = threading.Lock()
    pending = list(objects)

    def upload() -> None:
        with _rest(source) as client:
            while True:
                with lock:
                    if not pending:
                        return
                    path = pending.pop()
                answer = client.post("/instances", content=path.read_bytes())
                answer.raise_for_status()
                with lock:
                    ids.append(answer.json()["ID"])

    threads = [threading.Thread(target=upload) for _ in range(FILL_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(ids) != len(objects):
        raise RuntimeError(f"the source Orthanc took {len(ids)} of {len(objects)} objects")
    return ids


def _orthanc_forwards(source: Any, pacs: Any, ids: list[str]) -> float:
    """Seconds for the source Orthanc's ``/dicom-web/servers/pacs/stow`` of ``ids``."""
    with _rest(source) as client:
        registered = client.put(
            f"/dicom-web/servers/{PACS}",
            json={"Url": pacs.dicomweb_url, "Username": pacs.user, "Password": pacs.password},
        )
        registered.raise_for_status()
        start = time.perf_counter()
        answer = client.post(
            f"/dicom-web/servers/{PACS}/stow", json={"Resources": ids, "Synchronous": True}
        )
        seconds = time.perf_counter() - start
        answer.raise_for_status()
    return seconds


def _delete(source: Any, ids: list[str]) -> None:
    with _rest(source) as client:
        for instance in ids:
            client.delete(f"/instances/{instance}").raise_for_status()


def ratio(results: dict[str, Any]) -> float | None:
    block = results.get(KEY, {})
    return block["pointcare_over_orthanc"]["median"] if "pointcare_over_orthanc" in block else None


def target(results: dict[str, Any]) -> tuple[str, str, str]:
    block = results.get(KEY, {})
    name = "delivery to a fresh Orthanc: Pointcare's worker >= Orthanc's DICOMweb forwarding"
    value = ratio(results)
    if value is None:
        return name, "-", NOT_MEASURED
    figure = f"{fmt(block['pointcare_over_orthanc'], 2)}x over {block['rounds']} rounds"
    if "backlog_drain_s" in block:
        figure += f"; a {block['backlog_photos']}-photo backlog drained in "
        figure += f"{block['backlog_drain_s']:.0f} s"
    return name, figure, "met" if value >= 1.0 else "MISSED"


def markdown(results: dict[str, Any]) -> list[str]:
    block = results.get(KEY, {})
    title = "#### Delivery to the PACS against Orthanc's own forwarding"
    if block.get("status") == NOT_MEASURED:
        return [title, "", f"{NOT_MEASURED}: {block.get('why')}", ""]
    if "pointcare_over_orthanc" not in block:
        return []
    lines = [
        title,
        "",
        f"{block['photos_per_round']} photos (12 MP) per round, {block['rounds']} rounds, each "
        "into a fresh Orthanc; median (min–max) over the rounds.",
        "",
        f"- Pointcare's worker, from its outbox: {fmt(block['pointcare_photos_per_s'])} photos/s",
        "- a second Orthanc holding the same objects, `POST /dicom-web/servers/pacs/stow` of "
        f"all of them: {fmt(block['orthanc_photos_per_s'])} photos/s",
        f"- ratio per round: {fmt(block['pointcare_over_orthanc'], 2)}",
    ]
    if "backlog_drain_s" in block:
        lines.append(
            f"- backlog of {block['backlog_photos']} photos drained in "
            f"{block['backlog_drain_s']:.0f} s ({block['backlog_photos_per_s']:.1f} photos/s)"
        )
    lines.append(f"- delivery settings: {block.get('settings')}")
    return [*lines, ""]
