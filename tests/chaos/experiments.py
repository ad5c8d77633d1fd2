"""The experiments: each breaks one thing and returns its line of the table.

Every one runs on its own PostgreSQL cluster (and Orthanc, where there is a PACS), so that one
cannot disturb the next.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pointcare.archive.outbox import DeliveryState
from pointcare.archive.reconcile import reconcile
from pointcare.runtime import build_runtime
from tests.chaos.phones import Phones, Shot, acknowledged, photo, readable, status_counts
from tests.chaos.site import Site, get, make_site, pacs_copies, wait_until
from tests.integration.delivery.conftest import WorkerProcess
from tests.support.orthanc import Orthanc
from tests.support.pacs_proxy import Mode, PacsProxy
from tests.support.postgres import PostgresCluster
from tests.support.server import LiveServer, free_port
from tests.support.small_disk import small_filesystem

PHOTOS = 100
LOGS = Path("var/chaos")
DELIVERY_WAIT = 180.0


@dataclass
class Row:
    experiment: str
    sent: int
    acknowledged: int
    readable: int
    delivered: int | None
    """None: no PACS in this experiment."""
    duplicates: int
    """Index rows beyond one per capture id, plus PACS copies beyond one per SOP instance."""
    notes: str = ""


def keep_log(name: str, text: str) -> str:
    """Keep a server's log beside the report (``var/chaos/NAME.log``); the text."""
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{name}.log").write_text(text)
    return text


@contextlib.contextmanager
def postgres() -> Iterator[tuple[PostgresCluster, str]]:
    cluster = PostgresCluster.start()
    try:
        with cluster.database() as url:
            yield cluster, url
    finally:
        cluster.stop()


@contextlib.contextmanager
def orthanc(*, started: bool = True) -> Iterator[Orthanc]:
    pacs = Orthanc.create()
    try:
        yield pacs.start() if started else pacs
    finally:
        pacs.remove()


def _row(
    name: str,
    site: Site,
    shots: list[Shot],
    read: int,
    pacs: Orthanc | None,
    notes: str,
) -> Row:
    rows, distinct = site.index()
    copies, uids = pacs_copies(pacs) if pacs is not None else (0, 0)
    return Row(
        experiment=name,
        sent=len(shots),
        acknowledged=acknowledged(shots),
        readable=read,
        delivered=site.delivered() if pacs is not None else None,
        duplicates=(rows - distinct) + (copies - uids),
        notes=notes,
    )


def _delivered_all(site: Site, shots: list[Shot]) -> None:
    wait_until(lambda: site.delivered() >= acknowledged(shots), DELIVERY_WAIT)


# --- The PACS -------------------------------------------------------------------------------


def pacs_outage() -> Row:
    """The PACS is down while the photos are taken (a maintenance window), then comes back."""
    with postgres() as (_cluster, url), orthanc(started=False) as pacs:
        site = make_site(database_url=url, pacs=pacs, delivery_max_attempts=3)
        with LiveServer(data_dir=site.settings.data_dir, env=site.env) as server:
            shots = Phones(lambda: server.url, site.headers).send([photo(n) for n in range(PHOTOS)])
            time.sleep(10)  # long enough for every photo to pass its allowed attempts
            parked_while_down = site.states()[DeliveryState.PARKED]
            most_attempts = site.most_attempts()
            pacs.start()
            _delivered_all(site, shots)
            read = readable(server.url, site.headers, shots)
        notes = (
            f"parked while the PACS was down: {parked_while_down} (up to {most_attempts} "
            "attempts, 3 allowed)"
        )
        return _row("PACS down while photos are taken", site, shots, read, pacs, notes)


def worker_kills(kills: int = 25) -> Row:
    """Workers SIGKILLed again and again while a batch is on its way (a proxy slows the PACS's
    answers a little, and counts what is sent)."""
    with (
        postgres() as (_cluster, url),
        orthanc() as pacs,
        PacsProxy(pacs.url, slow_seconds=0.5) as proxy,
    ):
        proxy.mode = Mode.SLOW
        site = make_site(database_url=url, pacs=pacs, via=proxy.dicomweb_url)
        server = LiveServer(
            data_dir=site.settings.data_dir, env=site.env, extra_args=["--no-forwarder"]
        )
        with server:
            shots = Phones(lambda: server.url, site.headers).send(
                [photo(n) for n in range(PHOTOS * 3)]
            )
            done = 0
            while done < kills and site.delivered() < acknowledged(shots):
                sent_before = len(proxy.stow_requests)
                worker = WorkerProcess(site.env)
                wait_until(lambda n=sent_before: len(proxy.stow_requests) > n, 60)  # sending
                time.sleep(random.uniform(0.2, 3.0))  # a batch takes about 0.6 s
                worker.signal(signal.SIGKILL)
                worker.wait(10)
                worker.close()
                done += 1
            last = WorkerProcess(site.env)
            try:
                _delivered_all(site, shots)
            finally:
                last.signal(signal.SIGTERM)
                last.wait(30)
                last.close()
            read = readable(server.url, site.headers, shots)
        counts = proxy.sent_counts()
        notes = (
            f"{done} SIGKILLs while delivering; {sum(counts.values())} sends for {len(counts)} "
            f"photos (at most {max(counts.values(), default=0)} of one); parked: "
            f"{site.states()[DeliveryState.PARKED]}"
        )
        return _row("Worker SIGKILLed mid-delivery", site, shots, read, pacs, notes)


def server_kills(kills: int = 15) -> Row:
    """``pointcare serve`` SIGKILLed while phones upload; restarted each time on its port."""
    with postgres() as (_cluster, url), orthanc() as pacs:
        site = make_site(database_url=url, pacs=pacs)
        port = free_port()
        current = LiveServer(data_dir=site.settings.data_dir, env=site.env, port=port).start()
        worker = WorkerProcess(site.env)
        killer_done = threading.Event()

        def killer() -> None:
            nonlocal current
            for _ in range(kills):
                time.sleep(random.uniform(0.5, 2.0))
                current.kill()
                current.stop()
                current = LiveServer(data_dir=site.settings.data_dir, env=site.env, port=port)
                current.start()
            killer_done.set()

        thread = threading.Thread(target=killer)
        thread.start()
        try:
            shots = Phones(lambda: f"http://127.0.0.1:{port}", site.headers).send(
                [photo(n) for n in range(PHOTOS * 2)], pause=0.05
            )
            thread.join()
            _delivered_all(site, shots)
            read = readable(current.url, site.headers, shots)
        finally:
            thread.join()
            current.stop()
            worker.signal(signal.SIGTERM)
            worker.wait(30)
            worker.close()
        runtime = build_runtime(site.settings)
        try:
            found = reconcile(runtime.db, runtime.files, grace=timedelta(0), repair=True)
        finally:
            runtime.close()
        notes = (
            f"{kills} SIGKILLs; orphan files left by the kills: {len(found.orphans)}, "
            f"all removed by the reconciler; indexed files missing: {len(found.missing)}"
        )
        return _row("Server SIGKILLed during ingest", site, shots, read, pacs, notes)


# --- The database, the disk -----------------------------------------------------------------


def postgres_restarts(restarts: int = 3) -> Row:
    """PostgreSQL stopped and started again while phones upload and a forwarder delivers."""
    with postgres() as (cluster, url), orthanc() as pacs:
        site = make_site(database_url=url, pacs=pacs)
        with LiveServer(data_dir=site.settings.data_dir, env=site.env) as server:
            done = threading.Event()

            def restarter() -> None:
                for _ in range(restarts):
                    time.sleep(3)
                    cluster.halt()
                    time.sleep(2)
                    cluster.resume()
                done.set()

            thread = threading.Thread(target=restarter)
            thread.start()
            phones = Phones(lambda: server.url, site.headers)
            shots = phones.send([photo(n) for n in range(PHOTOS * 2)], pause=0.1)
            thread.join()
            _delivered_all(site, shots)
            read = readable(server.url, site.headers, shots)
            tracebacks = keep_log("postgres-restarts", server.stderr).count("Traceback")
        answers = status_counts(shots)
        notes = f"{restarts} restarts; answers {answers}; tracebacks in the log: {tracebacks}"
        return _row("PostgreSQL restarted during uploads", site, shots, read, pacs, notes)


def full_disk() -> Row:
    """The data disk (archive and SQLite database) fills up during uploads, then is freed."""
    with small_filesystem(megabytes=64) as root:
        ballast = root / "ballast"
        ballast.write_bytes(bytes(40 * 1024 * 1024))
        site = make_site(data_dir=root / "var", min_free_megabytes=1)
        with LiveServer(data_dir=site.settings.data_dir, env=site.env) as server:
            phones = Phones(lambda: server.url, site.headers)
            seen: dict[str, int] = {}

            def free_when_full() -> None:
                wait_until(lambda: any(507 in s.statuses for s in list(phones.shots)), 120)
                stored = next((s for s in list(phones.shots) if s.answer), None)
                if stored is not None:
                    seen["read while full"] = readable(server.url, site.headers, [stored])
                seen["ready while full"] = get(server.url + "/healthz/ready")
                time.sleep(2)
                ballast.unlink()

            freer = threading.Thread(target=free_when_full)
            freer.start()
            shots = phones.send([photo(n, size=(1600, 1200), noise=True) for n in range(36)])
            freer.join()
            read = readable(server.url, site.headers, shots)
        answers = status_counts(shots)
        notes = (
            f"answers {answers}; a read while full: "
            f"{'served (its audit row fit)' if seen.get('read while full') else 'refused (503)'}; "
            f"/healthz/ready while full: {seen.get('ready while full')}"
        )
        return _row("Data disk full during uploads", site, shots, read, None, notes)
