"""The benchmark harness: scenarios, repeats, figures, and the reports in ``var/bench/``.

Everything runs on 127.0.0.1: the Pointcare server (``LiveServer``, a subprocess with a fresh
data dir) and Orthanc (``infra/orthanc.sh``) are other processes; this process only drives them
over HTTP with a pool of client threads (one ``httpx.Client`` each). Each run stops by itself
after a count of requests or a time cap, whichever comes first.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.bench import phone_pages, shutter
from tests.bench.report import NOT_MEASURED, summary, verdict
from tests.support.consent import CLINICAL_ONLY
from tests.support.tools import CORPUS_DIR, REPO_ROOT

BACKEND = REPO_ROOT / "backend"
OUT_DIR = REPO_ROOT / "var" / "bench"
MB = 1_000_000
PATIENT = "PC100001"
BODY_SITE = "14975008"

# A unit of work for a client thread: index -> (bytes sent, bytes answered); raises on failure.
Request = Callable[[httpx.Client, int], int]


# -- figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class Run:
    """One timed run: ``count`` requests by ``clients`` threads."""

    clients: int
    latencies: list[float] = field(default_factory=list)
    sent_bytes: int = 0
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def figures(self) -> dict[str, float]:
        return {
            "photos_per_s": self.ok / self.wall if self.wall else 0.0,
            "mb_per_s": self.sent_bytes / MB / self.wall if self.wall else 0.0,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p95_ms": percentile(self.latencies, 95) * 1000,
            "max_ms": max(self.latencies, default=float("nan")) * 1000,
            "count": float(self.ok),
            "errors": float(len(self.errors)),
        }


def drive(
    make_client: Callable[[], httpx.Client],
    request: Request,
    *,
    clients: int,
    count: int,
    time_cap: float,
) -> Run:
    """``count`` requests (or as many as fit in ``time_cap`` seconds) by ``clients`` threads."""
    run = Run(clients)
    lock = threading.Lock()
    next_index = [0]
    deadline = time.monotonic() + time_cap

    def worker() -> None:
        with make_client() as client:
            while True:
                with lock:
                    if next_index[0] >= count or time.monotonic() > deadline:
                        return
                    index = next_index[0]
                    next_index[0] += 1
                start = time.perf_counter()
                try:
                    sent = request(client, index)
                except Exception as error:
                    with lock:
                        run.errors.append(f"{type(error).__name__}: {error}"[:300])
                    continue
                elapsed = time.perf_counter() - start
                with lock:
                    run.latencies.append(elapsed)
                    run.sent_bytes += sent

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.wall = time.perf_counter() - start
    return run


def combine(runs: Sequence[Run], extra: Sequence[dict[str, float]] = ()) -> dict[str, Any]:
    """Median/min/max over repeats of every figure of the runs (and of per-repeat extras)."""
    per_repeat = [run.figures() for run in runs]
    for figures, more in zip(per_repeat, extra, strict=False):
        figures.update(more)
    keys = per_repeat[0].keys() if per_repeat else ()
    result: dict[str, Any] = {key: summary([f[key] for f in per_repeat]) for key in keys}
    result["repeats"] = len(runs)
    errors = [e for run in runs for e in run.errors]
    if errors:
        result["first_errors"] = errors[:3]
    return result


# -- machine -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import PIL
    import pydicom

    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    orthanc = shutil.which("Orthanc")
    orthanc_version = ""
    if orthanc:
        result = subprocess.run(
            [orthanc, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        orthanc_version = next(iter((result.stdout or result.stderr).splitlines()), "")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "pydicom": pydicom.__version__,
        "httpx": httpx.__version__,
        "orthanc": orthanc_version or "absent",
        "platform": platform.platform(),
        "loadavg_1_5_15_min_at_end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


# -- photos --------------------------------------------------------------------------------------


@dataclass
class Photos:
    upright: bytes
    rotated: bytes
    """Orientation=6, stored 3000 x 4000: whole 16-pixel MCUs, so it is turned losslessly."""
    rotated_partial: bytes
    """Orientation=6, stored 4000 x 3000 (a portrait from a 4000 x 3000 sensor): 3000 rows are
    not whole MCUs, so it is re-encoded (through its Y, Cb and Cr planes)."""
    heic: list[tuple[str, bytes]]

    def re_encode_path(self) -> list[tuple[str, bytes, str, str]]:
        """Scenario 2's photos: (figure name, bytes, file name, content type)."""
        return [
            ("rotated_jpeg", self.rotated, "rotated.jpg", "image/jpeg"),
            ("rotated_jpeg_partial_mcus", self.rotated_partial, "rotated-4000.jpg", "image/jpeg"),
            *((name, data, name, "image/heic") for name, data in self.heic),
        ]


def make_photos(cache: Path) -> Photos:
    """The 12 MP upright JPEG (no metadata), two EXIF-rotated ones, the corpus HEICs."""
    import pillow_heif
    from PIL import Image, ImageOps

    pillow_heif.register_heif_opener()  # once, outside the timed floor runs that open the HEICs

    cache.mkdir(parents=True, exist_ok=True)
    upright_path = cache / "upright_12mp.jpg"
    rotated_path = cache / "rotated_12mp_exif6.jpg"
    partial_path = cache / "rotated_12mp_exif6_4000x3000.jpg"
    if not all(p.exists() for p in (upright_path, rotated_path, partial_path)):
        source = CORPUS_DIR / "photos" / "phone" / "jolla.jpg"
        with Image.open(source) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB").resize((4000, 3000))
        buffer = io.BytesIO()
        upright.save(buffer, "JPEG", quality=92)  # no exif= argument: no metadata at all
        upright_path.write_bytes(buffer.getvalue())
        # The phone's sensor orientation: pixels stored rotated, EXIF Orientation=6 says
        # "rotate 90 degrees clockwise to view" (the upright picture once applied).
        exif = Image.Exif()
        exif[0x0112] = 6
        for path, stored in (
            (rotated_path, upright.transpose(Image.Transpose.ROTATE_90)),
            (partial_path, upright.transpose(Image.Transpose.ROTATE_180)),
        ):
            buffer = io.BytesIO()
            stored.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
            path.write_bytes(buffer.getvalue())
    heic_dir = CORPUS_DIR / "photos" / "heic"
    heic = [(p.name, p.read_bytes()) for p in sorted(heic_dir.glob("*.heic"))]
    return Photos(
        upright_path.read_bytes(), rotated_path.read_bytes(), partial_path.read_bytes(), heic
    )


def pillow_floor(photo: bytes, transform: Any = None) -> None:
    """The least work a re-encode can do: decode, turn upright, encode at q95 (HEIC too, once
    ``make_photos`` has registered the HEIF opener). With a ``transform``
    (``wide_gamut_transform``), the colour-managed floor: also the one step a wide-gamut photo
    needs before a viewer shows it right, its colours brought to sRGB in place by Pillow's
    ImageCms (LittleCMS, one thread)."""
    from PIL import Image, ImageCms, ImageOps

    with Image.open(io.BytesIO(photo)) as image:
        upright = ImageOps.exif_transpose(image)
        if transform is not None:
            ImageCms.applyTransform(upright, transform, inPlace=True)
        upright.save(io.BytesIO(), "JPEG", quality=95)


def wide_gamut_transform(photo: bytes) -> Any:
    """A LittleCMS transform from the photo's ICC profile to sRGB when its colours are not
    sRGB's (an iPhone's Display P3), as the server decides it; None otherwise. Built once,
    outside the timed rounds, as the server caches its own."""
    from PIL import Image, ImageCms

    from pointcare.imaging import colour

    with Image.open(io.BytesIO(photo)) as image:
        icc: bytes | None = image.info.get("icc_profile")
        if not colour.needs_conversion(icc, image.mode):
            return None
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc or b""))
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.buildTransform(source, srgb, image.mode, "RGB")


# -- processes -----------------------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    """The environment for ``python -m pointcare`` when it is not installed in the venv."""
    paths = [str(BACKEND), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def peak_rss_reset(pid: int) -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of ``pid``; False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time process ``pid`` has used (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(pid: int | None, timed: Callable[[], Run]) -> tuple[Run, dict[str, float]]:
    """``timed()``'s run, and the CPU process ``pid`` spent per photo it answered, in ms
    (``server_cpu_ms_per_photo``; absent without a PID)."""
    if pid is None:
        return timed(), {}
    before = cpu_seconds(pid)
    run = timed()
    used = cpu_seconds(pid) - before
    return run, {"server_cpu_ms_per_photo": used * 1000 / run.ok if run.ok else float("nan")}


def bearer_token(data_dir: Path, user: str = "nurse", env: dict[str, str] | None = None) -> str:
    """An API token minted by ``pointcare token`` with the server's settings (``env``; the
    benchmark's defaults when not given)."""
    result = subprocess.run(
        [sys.executable, "-m", "pointcare", "token", "--user", user],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**(env or subprocess_env()), "POINTCARE_DATA_DIR": str(data_dir)},
    )
    return result.stdout.strip().splitlines()[-1]


def pointcare_client(url: str, token: str) -> Callable[[], httpx.Client]:
    """A client factory for our server, signed in with an API token."""

    def make() -> httpx.Client:
        return httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            trust_env=False,
        )

    return make


STOW_BOUNDARY = "pointcare-bench-boundary"


def stow_request(payloads: Sequence[bytes], offset: int = 0) -> Request:
    """A STOW-RS request of one object: request ``index`` sends ``payloads[offset + index]``
    (round the list when there are fewer)."""

    def request(client: httpx.Client, index: int) -> int:
        data = payloads[(offset + index) % len(payloads)]
        body = (
            f"--{STOW_BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            + data
            + f"\r\n--{STOW_BOUNDARY}--\r\n".encode()
        )
        response = client.post(
            "/dicom-web/studies",
            content=body,
            headers={
                "Content-Type": (
                    f'multipart/related; type="application/dicom"; boundary={STOW_BOUNDARY}'
                ),
                "Accept": "application/dicom+json",
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return len(data)

    return request


def create_dicom_request(photo: bytes) -> Request:
    """Orthanc's own converter: the JPEG as a data URI, with the patient's tags."""
    uri = "data:image/jpeg;base64," + base64.b64encode(photo).decode("ascii")

    def request(client: httpx.Client, index: int) -> int:
        response = client.post(
            "/tools/create-dicom",
            json={
                "Tags": {
                    "PatientID": PATIENT,
                    "PatientName": "Bench^Patient",
                    "Modality": "XC",
                    "SeriesDescription": f"bench {index}",
                },
                "Content": uri,
            },
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return len(photo)

    return request


def thumbnail_paths(client: httpx.Client, mrn: str, issuer: str) -> list[str]:
    """The thumbnail paths of a patient's instances (one QIDO-RS page)."""
    found = client.get(
        "/dicomweb/instances",
        params={"PatientID": mrn, "IssuerOfPatientID": issuer},
        headers={"Accept": "application/dicom+json"},
    )
    found.raise_for_status()
    return [
        "/dicomweb/studies/{}/series/{}/instances/{}/thumbnail".format(
            *(item[tag]["Value"][0] for tag in ("0020000D", "0020000E", "00080018"))
        )
        for item in found.json()
    ]


def review_request(mrn: str, issuer: str) -> Request:
    """A patient's review page (its first screen of photos)."""

    def request(client: httpx.Client, _index: int) -> int:
        answer = client.get(f"/patients/{mrn}", params={"issuer": issuer})
        answer.raise_for_status()
        if "photo-grid" not in answer.text:
            raise RuntimeError("the review page lists no photos")
        return 0

    return request


def thumbnail_request(paths: Sequence[str]) -> Request:
    """Request ``index`` fetches one of the thumbnails (spread by a prime stride)."""

    def request(client: httpx.Client, index: int) -> int:
        answer = client.get(paths[(index * 7919) % len(paths)], headers={"Accept": "image/jpeg"})
        answer.raise_for_status()
        return 0

    return request


def paired_block(
    rounds: Sequence[tuple[float, float]], clients: int, requests: int, orthanc_side: str
) -> dict[str, Any]:
    """Paired rounds' figures: (ours, Orthanc's) photos/s per round, and their ratio."""
    return {
        "rounds": len(rounds),
        "clients": clients,
        "requests_per_round": requests,
        "orthanc_side": orthanc_side,
        "pointcare_photos_per_s": summary([ours for ours, _ in rounds]),
        "orthanc_photos_per_s": summary([theirs for _, theirs in rounds]),
        "pointcare_over_orthanc": summary([ours / theirs for ours, theirs in rounds]),
    }


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- the harness ---------------------------------------------------------------------------------


@dataclass
class Config:
    quick: bool
    repeat: int
    clients: tuple[int, ...] = (1, 4, 16)
    time_cap: float = 60.0
    read_quick: bool = False
    """Scenario 6 on a tenth of the issue's archive (1,000 instances, 50 patients)."""
    profile: bool = False
    """Record py-spy profiles of the processes the scenarios time (``tests.bench.profiling``)."""

    def count(self, clients: int) -> int:
        """Requests per run: enough for a p95, few enough to stay bounded."""
        if self.quick:
            return max(8, 4 * clients)
        return max(30, 10 * clients)


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.results: dict[str, Any] = {}
        self.work = Path(tempfile.mkdtemp(prefix="pointcare-bench-"))
        self.photos = make_photos(OUT_DIR / "photos")
        self.started = time.monotonic()
        # The Pillow floors decode in this process. Pillow keeps its freed image memory here as
        # the server does: else each floor run pays for faulting about 70 MB of fresh pages in,
        # more or less (83 to 140 ms for a 12 MP photo) by what this process did before.
        from pointcare.imaging.photo import keep_image_memory

        keep_image_memory(1)

    def log(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.started:6.1f} s] {message}", flush=True)

    # -- Pointcare -----------------------------------------------------------------------------

    def ingest_request(
        self, photo: bytes, name: str, content_type: str, *, answer: str = "stored"
    ) -> Request:
        """An upload of ``photo`` for the answer wanted: ``stored`` (201); ``looked at``, sent to
        ``/api/v1/photos/inspect``, which checks it, makes its preview and stores nothing (200);
        ``refused``, the upload without its patient, refused (422) once the form is read."""
        expected, path = {
            "stored": (201, "/api/v1/photos"),
            "looked at": (200, "/api/v1/photos/inspect"),
            "refused": (422, "/api/v1/photos"),
        }[answer]

        def request(client: httpx.Client, _index: int) -> int:
            fields = {
                "patient_id": PATIENT,
                "body_site": BODY_SITE,
                "laterality": "L",
                "capture_id": str(uuid.uuid4()),
                "allow_duplicate": "true",  # the same photo, on purpose, many times
                **CLINICAL_ONLY,
            }
            if answer == "refused":
                del fields["patient_id"]
            response = client.post(path, files={"file": (name, photo, content_type)}, data=fields)
            if response.status_code != expected:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            return len(photo)

        return request

    def ingest(
        self,
        server: Any,
        token: str,
        photo: bytes,
        name: str,
        content_type: str,
        clients_list: Sequence[int],
    ) -> dict[str, Any]:
        pid: int = server._process.pid  # LiveServer keeps the Popen private; read only
        request = self.ingest_request(photo, name, content_type)
        make_client = pointcare_client(server.url, token)
        out: dict[str, Any] = {}
        archive = server.data_dir / "archive"
        for clients in clients_list:
            runs, extra = [], []
            for _ in range(self.config.repeat):
                reset = peak_rss_reset(pid)
                before = dir_bytes(archive) if archive.exists() else 0
                run, cpu = with_cpu(
                    pid,
                    lambda clients=clients: drive(
                        make_client,
                        request,
                        clients=clients,
                        count=self.config.count(clients),
                        time_cap=self.config.time_cap,
                    ),
                )
                stored = dir_bytes(archive) - before
                runs.append(run)
                extra.append(
                    {
                        "server_peak_rss_mb": peak_rss_mb(pid),
                        "stored_bytes_per_photo": stored / run.ok if run.ok else float("nan"),
                        **cpu,
                    }
                )
                if not reset:
                    self.results.setdefault("notes", []).append(
                        "could not reset VmHWM: server peak RSS is the peak since start"
                    )
            out[str(clients)] = combine(runs, extra)
            figures = out[str(clients)]
            self.log(
                f"  {name} x{clients}: {figures['photos_per_s']['median']:.2f} photos/s, "
                f"p95 {figures['p95_ms']['median']:.0f} ms, "
                f"peak RSS {figures['server_peak_rss_mb']['median']:.0f} MB, "
                f"errors {figures['errors']['max']:.0f}"
            )
        return out

    def pointcare_scenarios(self) -> list[Path]:
        """Scenarios 1 and 2; returns the DICOM objects scenario 1 stored (copied out)."""
        from tests.support.server import LiveServer

        data_dir = self.work / "pointcare-data"
        objects_copy = self.work / "scenario1-objects"
        with LiveServer(demo=True, data_dir=data_dir, env=subprocess_env()) as server:
            token = bearer_token(data_dir)
            self.log("scenario 1: ingest, fast path (12 MP upright JPEG)")
            self.results["1_ingest_fast"] = self.ingest(
                server, token, self.photos.upright, "upright.jpg", "image/jpeg", self.config.clients
            )
            self.results["1_ingest_fast"]["photo_bytes"] = len(self.photos.upright)
            objects_dir = data_dir / "archive" / "objects"
            shutil.copytree(objects_dir, objects_copy)
            objects = sorted(objects_copy.rglob("*.dcm"))
            self.log("scenario 2: ingest, re-encode path (rotated JPEGs, HEIC)")
            re_encode: dict[str, Any] = {}
            for name, data, filename, content_type in self.photos.re_encode_path():
                re_encode[name] = self.ingest(server, token, data, filename, content_type, (1, 4))
                re_encode[name]["photo_bytes"] = len(data)
            self.floor()  # next to the server's figures for the same photo (server idle now)
            for name, data, filename, content_type in self.photos.re_encode_path():
                re_encode[name]["paired_with_floor"] = self.paired_with_floor(
                    server, token, data, filename, content_type
                )
            self.results["2_ingest_reencode"] = re_encode
        shutil.rmtree(data_dir, ignore_errors=True)
        return objects

    def read_side(self) -> dict[str, Any]:
        """Scenario 6 on a seeded archive (``tests.bench.seed``: 10,000 instances across 500
        patients, one of them with 1,000 photos; a tenth of that with ``--quick``), served by
        its own ``pointcare serve``; one client, requests spread over the patients."""
        from tests.bench.seed import BIG_PATIENT, FULL_SCALE, QUICK_SCALE, seed_read_side
        from tests.support.server import LiveServer

        scale = QUICK_SCALE if self.config.read_quick else FULL_SCALE
        data_dir = self.work / "read-side-data"
        self.log(
            f"scenario 6: seeding {scale.instances} photos across {scale.patients} patients "
            f"({scale.big_patient_photos} for one)"
        )
        sys.path.insert(0, str(BACKEND))
        seeded = seed_read_side(data_dir, scale, self.photos.upright, log=self.log)
        self.log(f"  seeded in {seeded.seconds:.0f} s")
        out: dict[str, Any] = {
            "instances_in_archive": scale.instances,
            "patients": scale.patients,
            "big_patient_photos": scale.big_patient_photos,
            "seeding_s": round(seeded.seconds, 1),
            "seeding": "tests/bench/seed.py: the real ingest (PhotoIngest.store) of a "
            "1600x1200 JPEG, file fsyncs skipped while seeding",
        }
        with LiveServer(demo=True, data_dir=data_dir, env=subprocess_env()) as server:
            token = bearer_token(data_dir, "doctor")
            make_client = pointcare_client(server.url, token)

            issuer = seeded.issuer
            others = seeded.mrns[1:]
            with make_client() as client:
                thumbs = thumbnail_paths(client, BIG_PATIENT, issuer)
            out["big_patient_qido_instances_returned"] = len(thumbs)

            def qido(level: str, pick: Callable[[int], str]) -> Request:
                def request(client: httpx.Client, index: int) -> int:
                    answer = client.get(
                        f"/dicomweb/{level}",
                        params={"PatientID": pick(index), "IssuerOfPatientID": issuer},
                        headers={"Accept": "application/dicom+json"},
                    )
                    answer.raise_for_status()
                    if not answer.json():
                        raise RuntimeError(f"no {level} for {pick(index)}")
                    return 0

                return request

            count = 30 if self.config.quick else 200
            scenarios: dict[str, tuple[Request, int]] = {
                "qido_instances_by_patient": (
                    qido("instances", lambda i: others[(i * 7919) % len(others)]),
                    count,
                ),
                "qido_studies_by_patient": (
                    qido("studies", lambda i: others[(i * 7919) % len(others)]),
                    count,
                ),
                "qido_instances_big_patient": (qido("instances", lambda _i: BIG_PATIENT), 20),
                "review_page_big_patient": (
                    review_request(BIG_PATIENT, issuer),
                    20 if self.config.quick else 50,
                ),
                "thumbnail": (thumbnail_request(thumbs), count),
            }
            for name, (request, how_many) in scenarios.items():
                drive(make_client, request, clients=1, count=3, time_cap=30)  # warm up
                runs = [
                    drive(
                        make_client,
                        request,
                        clients=1,
                        count=how_many,
                        time_cap=self.config.time_cap,
                    )
                    for _ in range(self.config.repeat)
                ]
                out[name] = combine(runs)
                self.log(
                    f"  {name}: p50 {out[name]['p50_ms']['median']:.1f} ms, "
                    f"p95 {out[name]['p95_ms']['median']:.1f} ms"
                )
            with make_client() as client:
                page = client.get(f"/patients/{BIG_PATIENT}", params={"issuer": issuer})
            out["review_page_bytes"] = len(page.content)
            out["review_page_thumbnails"] = page.text.count('class="photo-card')
        shutil.rmtree(data_dir, ignore_errors=True)
        return out

    # -- Orthanc -------------------------------------------------------------------------------

    def orthanc_scenarios(self, objects: list[Path]) -> None:
        if shutil.which("Orthanc") is None:
            for key in ("3_orthanc_stow", "4_orthanc_create_dicom"):
                self.results[key] = {"status": NOT_MEASURED, "why": "Orthanc is not installed"}
            return
        from tests.support.orthanc import Orthanc

        orthanc = Orthanc.create()
        orthanc.start()
        try:
            self.log("scenario 3: Orthanc STOW-RS of scenario 1's objects")
            self.results["3_orthanc_stow"] = self.orthanc_stow(orthanc, objects)
            self.log("scenarios 3 and 4, paired: the fast path, STOW-RS, create-dicom in turn, x4")
            paired_stow, paired_create = self.paired_with_orthanc(orthanc)
            self.results["3_orthanc_stow"]["paired_x4"] = paired_stow
            self.log("scenario 4: Orthanc /tools/create-dicom with the JPEG")
            self.results["4_orthanc_create_dicom"] = self.orthanc_create(orthanc)
            self.results["4_orthanc_create_dicom"]["paired_x4"] = paired_create
            self.log("scenario 7: delivery, outbox to Orthanc by a `pointcare worker`")
            self.results["7_delivery"] = self.delivery(orthanc)
        finally:
            orthanc.remove()

    def delivery(self, orthanc: Any) -> dict[str, Any]:
        """Fill the outbox (server with ``--no-forwarder``), then time one ``pointcare worker``
        until Orthanc holds every photo (QIDO count by PatientID, polled every 50 ms)."""
        from tests.support.server import LiveServer

        data_dir = self.work / "delivery-data"
        count = 20 if self.config.quick else 100
        env = {**subprocess_env(), **orthanc.env()}
        totals, windows = [], []
        with LiveServer(
            demo=True, data_dir=data_dir, env=env, extra_args=["--no-forwarder"]
        ) as server:
            token = bearer_token(data_dir)
            request = self.ingest_request(self.photos.upright, "upright.jpg", "image/jpeg")
            make_client = pointcare_client(server.url, token)
            for _ in range(self.config.repeat):
                baseline = orthanc.count_patient_instances(PATIENT)
                filled = drive(
                    make_client, request, clients=4, count=count, time_cap=self.config.time_cap
                )
                target = baseline + filled.ok
                worker = subprocess.Popen(
                    [sys.executable, "-m", "pointcare", "worker"],
                    env={**env, "POINTCARE_DATA_DIR": str(data_dir)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                start = time.perf_counter()
                first: float | None = None
                deadline = time.monotonic() + self.config.time_cap * 3
                try:
                    while time.monotonic() < deadline:
                        held = orthanc.count_patient_instances(PATIENT)
                        if first is None and baseline < held < target:
                            first = time.perf_counter()
                        if held >= target:
                            break
                        time.sleep(0.05)
                    end = time.perf_counter()
                finally:
                    worker.terminate()
                    worker.wait(timeout=30)
                delivered = orthanc.count_patient_instances(PATIENT) - baseline
                totals.append(delivered / (end - start))
                if first is not None and end > first:
                    windows.append(delivered / (end - first))
        shutil.rmtree(data_dir, ignore_errors=True)
        out: dict[str, Any] = {
            "photos_per_repeat": count,
            "photos_per_s_incl_worker_startup": summary(totals),
            "note": "from worker start: includes its Python start-up (~1 s); first to last: "
            "only repeats where a poll saw a partial delivery",
        }
        if windows:
            out["photos_per_s_first_to_last"] = summary(windows)
        self.log(f"  delivery: {out['photos_per_s_incl_worker_startup']['median']:.2f} photos/s")
        return out

    def orthanc_client(self, orthanc: Any) -> Callable[[], httpx.Client]:
        def make() -> httpx.Client:
            return httpx.Client(
                base_url=orthanc.url,
                auth=(orthanc.user, orthanc.password),
                timeout=60,
                trust_env=False,
            )

        return make

    def orthanc_stow(self, orthanc: Any, objects: list[Path]) -> dict[str, Any]:
        # Each run gets objects Orthanc does not hold yet (it would skip a stored one); the pool
        # is what scenario 1 produced, the same count per run as Pointcare ingested.
        payloads = [p.read_bytes() for p in objects]
        cursor = [0]
        out: dict[str, Any] = {"objects_available": len(payloads)}
        for clients in self.config.clients:
            runs, extra = [], []
            for _ in range(self.config.repeat):
                count = self.config.count(clients)
                run, cpu = with_cpu(
                    orthanc.pid,
                    lambda clients=clients, count=count: drive(
                        self.orthanc_client(orthanc),
                        stow_request(payloads, cursor[0]),
                        clients=clients,
                        count=count,
                        time_cap=self.config.time_cap,
                    ),
                )
                cursor[0] += count
                runs.append(run)
                extra.append(cpu)
            out[str(clients)] = combine(runs, extra)
            self.log(
                f"  STOW x{clients}: {out[str(clients)]['photos_per_s']['median']:.2f} photos/s"
            )
        if cursor[0] > len(payloads):
            out["note"] = "fewer objects than requests: some were sent again (already stored)"
        return out

    def paired_with_orthanc(
        self, orthanc: Any, clients: int = 4
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Scenario 1 against scenarios 3 and 4 in alternation. Each round: a run of uploads to
        a fresh server of ours; the objects that run stored, each once, to Orthanc by STOW-RS;
        as many photos to Orthanc's converter; all with as many clients. The scenarios run
        minutes apart, and this machine's speed drifts by a third within minutes; neighbouring
        runs share the drift, so their ratio does not. Returns the STOW-RS and the converter
        halves."""
        from tests.support.server import LiveServer

        data_dir = self.work / "paired-data"
        objects_dir = data_dir / "archive" / "objects"
        rounds = 4 if self.config.quick else 10
        count = self.config.count(clients)
        convert = create_dicom_request(self.photos.upright)

        def to_orthanc(request: Request, requests: int) -> Run:
            return drive(
                self.orthanc_client(orthanc),
                request,
                clients=clients,
                count=requests,
                time_cap=self.config.time_cap,
            )

        stow_rounds, create_rounds = [], []
        with LiveServer(demo=True, data_dir=data_dir, env=subprocess_env()) as server:
            make_client = pointcare_client(server.url, bearer_token(data_dir))
            upload = self.ingest_request(self.photos.upright, "upright.jpg", "image/jpeg")
            for _ in range(rounds):
                before = set(objects_dir.rglob("*.dcm")) if objects_dir.exists() else set()
                run = drive(
                    make_client, upload, clients=clients, count=count, time_cap=self.config.time_cap
                )
                stored = [p.read_bytes() for p in sorted(set(objects_dir.rglob("*.dcm")) - before)]
                stow = to_orthanc(stow_request(stored), len(stored))
                created = to_orthanc(convert, len(stored))
                errors = run.errors + stow.errors + created.errors
                if errors or not stored or stow.ok != len(stored) or created.ok != len(stored):
                    raise RuntimeError(
                        f"paired round failed: {errors[:1]}, {len(stored)} stored, "
                        f"{stow.ok} sent by STOW-RS, {created.ok} converted"
                    )
                ours = run.figures()["photos_per_s"]
                stow_rounds.append((ours, stow.figures()["photos_per_s"]))
                create_rounds.append((ours, created.figures()["photos_per_s"]))
        shutil.rmtree(data_dir, ignore_errors=True)
        halves = (
            paired_block(stow_rounds, clients, count, "the objects it stored, by STOW-RS"),
            paired_block(create_rounds, clients, count, "as many photos to its converter"),
        )
        for name, half in zip(("STOW-RS", "create-dicom"), halves, strict=True):
            ratio = half["pointcare_over_orthanc"]["median"]
            self.log(f"  paired x{clients}, {name}: {ratio:.2f}x")
        return halves

    def orthanc_create(self, orthanc: Any) -> dict[str, Any]:
        request = create_dicom_request(self.photos.upright)

        def disk_size(client: httpx.Client) -> int:
            response = client.get("/statistics")
            response.raise_for_status()
            return int(response.json()["TotalDiskSize"])

        out: dict[str, Any] = {}
        for clients in self.config.clients:
            runs, extra = [], []
            for _ in range(self.config.repeat):
                with self.orthanc_client(orthanc)() as client:
                    before = disk_size(client)
                run, cpu = with_cpu(
                    orthanc.pid,
                    lambda clients=clients: drive(
                        self.orthanc_client(orthanc),
                        request,
                        clients=clients,
                        count=self.config.count(clients),
                        time_cap=self.config.time_cap,
                    ),
                )
                with self.orthanc_client(orthanc)() as client:
                    stored = disk_size(client) - before
                runs.append(run)
                extra.append(
                    {"stored_bytes_per_photo": stored / run.ok if run.ok else float("nan"), **cpu}
                )
            out[str(clients)] = combine(runs, extra)
            self.log(
                f"  create-dicom x{clients}: "
                f"{out[str(clients)]['photos_per_s']['median']:.2f} photos/s"
            )
        return out

    # -- floor ---------------------------------------------------------------------------------

    def floor(self) -> None:
        self.log("scenario 5: floor (Pillow alone) and normalise_photo in-process")
        sys.path.insert(0, str(BACKEND))
        from pointcare.imaging.photo import normalise_photo

        data = self.photos.rotated

        def pillow_only() -> None:
            pillow_floor(data)

        def normalise() -> None:
            normalise_photo(data, max_pixels=64_000_000)

        iterations = 3 if self.config.quick else 10
        pillow_times: list[float] = []
        normalise_times: list[float] = []
        for _ in range(self.config.repeat):
            for fn, into in ((pillow_only, pillow_times), (normalise, normalise_times)):
                times = []
                for _ in range(iterations):
                    start = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - start)
                into.append(statistics.median(times) * 1000)
        self.results["5_floor"] = {
            "pillow_decode_orient_encode_ms": summary(pillow_times),
            "normalise_photo_ms": summary(normalise_times),
            "iterations_per_repeat": iterations,
            **self.fast_path_ceiling(),
        }

    def paired_with_floor(
        self, server: Any, token: str, data: bytes, filename: str, content_type: str
    ) -> dict[str, Any]:
        """The re-encode path's time over the Pillow floor, one round after another: the floor
        in this process, then the same photo sent to the idle server by one client. A shared
        machine's speed drifts by tens of percent within minutes; a ratio of two figures taken
        minutes apart measures the drift, a ratio of neighbours does not."""
        request = self.ingest_request(data, filename, content_type)
        rounds = 8 if self.config.quick else 20
        transform = wide_gamut_transform(data)
        floors, colour_floors, served = [], [], []
        with pointcare_client(server.url, token)() as client:
            for index in range(rounds):
                start = time.perf_counter()
                pillow_floor(data)
                floors.append(time.perf_counter() - start)
                if transform is not None:
                    start = time.perf_counter()
                    pillow_floor(data, transform)
                    colour_floors.append(time.perf_counter() - start)
                start = time.perf_counter()
                request(client, index)
                served.append(time.perf_counter() - start)
        paired = {
            "rounds": rounds,
            "server_over_floor": summary([s / f for s, f in zip(served, floors, strict=True)]),
            "server_ms": summary([s * 1000 for s in served]),
            "floor_ms": summary([f * 1000 for f in floors]),
        }
        if colour_floors:
            paired["colour_floor_ms"] = summary([f * 1000 for f in colour_floors])
            paired["server_over_colour_floor"] = summary(
                [s / f for s, f in zip(served, colour_floors, strict=True)]
            )
        return paired

    def fast_path_ceiling(self) -> dict[str, dict[str, float]]:
        """The fast path's image work alone (``normalise_photo`` of the upright JPEG: the
        validating decode at 1/8 scale, metadata stripped, the thumbnail), one thread per core
        (Pillow releases the interpreter lock while it decodes): no HTTP, no DICOM, no index,
        no fsync. The most photos/s the fast path could reach on this machine, and the CPU
        each photo's image work takes."""
        from concurrent.futures import ThreadPoolExecutor

        from pointcare.imaging.photo import normalise_photo

        data = self.photos.upright
        cores = os.cpu_count() or 1
        per_run = (8 if self.config.quick else 30) * cores
        rates, cpu = [], []
        with ThreadPoolExecutor(cores) as pool:
            for _ in range(self.config.repeat):
                start, cpu_start = time.perf_counter(), time.process_time()
                for _photo in pool.map(
                    lambda _i: normalise_photo(data, max_pixels=64_000_000), range(per_run)
                ):
                    pass
                rates.append(per_run / (time.perf_counter() - start))
                cpu.append((time.process_time() - cpu_start) * 1000 / per_run)
        return {
            "fast_path_image_work_all_cores_photos_per_s": summary(rates),
            "fast_path_image_work_cpu_ms_per_photo": summary(cpu),
        }

    # -- report --------------------------------------------------------------------------------

    def ratios(self) -> dict[str, Any]:
        r = self.results
        out: dict[str, Any] = {}

        def median(*path: str) -> float | None:
            node: Any = r
            for key in path:
                if not isinstance(node, dict) or key not in node:
                    return None
                node = node[key]
            return node["median"] if isinstance(node, dict) and "median" in node else None

        ceiling = median("5_floor", "fast_path_image_work_all_cores_photos_per_s")
        stow4 = median("3_orthanc_stow", "4", "photos_per_s")
        if ceiling and stow4:
            out["fast_path_image_work_alone_over_orthanc_stow_x4"] = ceiling / stow4
        cpu4 = median("1_ingest_fast", "4", "server_cpu_ms_per_photo")
        stow_cpu4 = median("3_orthanc_stow", "4", "server_cpu_ms_per_photo")
        if cpu4 and stow_cpu4:
            out["server_cpu_per_photo_pointcare_over_orthanc_stow_x4"] = cpu4 / stow_cpu4
        if cpu4 and stow4:
            # Every core busy with Pointcare's server and nothing else (not even the clients).
            cpu_bound = (os.cpu_count() or 1) * 1000 / cpu4
            out["fast_path_cpu_bound_ceiling_over_orthanc_stow_x4"] = cpu_bound / stow4
        for clients in ("1", "4", "16"):
            pc = median("1_ingest_fast", clients, "photos_per_s")
            stow = median("3_orthanc_stow", clients, "photos_per_s")
            create = median("4_orthanc_create_dicom", clients, "photos_per_s")
            if pc and stow:
                out[f"pointcare_over_orthanc_stow_x{clients}"] = pc / stow
            if pc and create:
                out[f"pointcare_over_orthanc_create_x{clients}"] = pc / create
        for key, peer in (("3_orthanc_stow", "stow"), ("4_orthanc_create_dicom", "create")):
            paired = median(key, "paired_x4", "pointcare_over_orthanc")
            if paired:
                out[f"pointcare_over_orthanc_{peer}_paired_x4"] = paired
        pc_bytes = median("1_ingest_fast", "4", "stored_bytes_per_photo")
        oc_bytes = median("4_orthanc_create_dicom", "4", "stored_bytes_per_photo")
        if pc_bytes and oc_bytes:
            out["pointcare_over_orthanc_create_stored_bytes"] = pc_bytes / oc_bytes
        floor = median("5_floor", "pillow_decode_orient_encode_ms")
        inproc = median("5_floor", "normalise_photo_ms")
        if floor and inproc:
            out["normalise_photo_over_floor"] = inproc / floor
        for name in r.get("2_ingest_reencode", {}):
            paired = median("2_ingest_reencode", name, "paired_with_floor", "server_over_floor")
            if paired:
                out[f"server_over_floor_paired_{name}"] = paired
            colour = median(
                "2_ingest_reencode", name, "paired_with_floor", "server_over_colour_floor"
            )
            if colour:
                out[f"server_over_colour_managed_floor_paired_{name}"] = colour
        out.update(shutter.ratios(r))
        from tests.bench import search

        out |= search.ratios(r)
        out.update(extra_ratios(r))
        return out

    def targets(self, ratios: dict[str, Any]) -> list[tuple[str, str, str]]:
        r = self.results
        rows: list[tuple[str, str, str]] = []

        def peer_figure(peer: str) -> tuple[str, float | None]:
            """Scenario 1 over the peer's scenario, with the paired rounds' ratio beside it."""
            ratio = ratios.get(f"pointcare_over_orthanc_{peer}_x4")
            figure = f"{ratio:.2f}x" if ratio else "-"
            if paired := ratios.get(f"pointcare_over_orthanc_{peer}_paired_x4"):
                figure += f" ({paired:.2f}x in paired rounds, run for run)"
            return figure, ratio

        for peer, target in (
            ("stow", "fast path x4 against Orthanc STOW-RS (parity)"),
            ("create", "fast path x4 against Orthanc create-dicom throughput (10x)"),
        ):
            figure, _ratio = peer_figure(peer)
            rows.append((target, figure, RETIRED))
        size = ratios.get("pointcare_over_orthanc_create_stored_bytes")
        rows.append(
            (
                "<= 1/10 of Orthanc create-dicom stored bytes",
                f"{size:.3f}" if size else "-",
                verdict(None if size is None else size <= 0.1),
            )
        )
        for name in r.get("2_ingest_reencode", {}):
            floor = ratios.get(f"server_over_floor_paired_{name}")
            colour = ratios.get(f"server_over_colour_managed_floor_paired_{name}")
            figure = f"{floor:.2f}x" if floor else "-"
            if colour:
                # A wide-gamut photo must have its colours brought to sRGB: its floor does too.
                figure = f"{colour:.2f}x of the floor that also converts its colours to sRGB"
                figure += f" ({floor:.2f}x of the plain floor)" if floor else ""
            judged = colour or floor
            rows.append(
                (
                    f"re-encode path <= 1.25x Pillow floor: {name} (1 client, each request "
                    "next to a floor run; colour-converting for wide-gamut photos)",
                    figure,
                    verdict(None if judged is None else judged <= 1.25),
                )
            )
        x16 = r.get("1_ingest_fast", {}).get("16")
        if x16:
            rss, worst, errors = (
                x16["server_peak_rss_mb"]["max"],
                x16["max_ms"]["max"],
                x16["errors"]["max"],
            )
            rows.append(
                (
                    "16 clients: peak RSS < 1 GB, no request > 10 s, no error",
                    f"{rss:.0f} MB, {worst / 1000:.1f} s, {errors:.0f} errors",
                    verdict(rss < 1024 and worst < 10_000 and errors == 0),
                )
            )
        else:
            rows.append(
                ("16 clients: peak RSS < 1 GB, no request > 10 s, no error", "-", NOT_MEASURED)
            )
        read = r.get("6_read_side", {})
        scale = f"{read.get('instances_in_archive')} instances, {read.get('patients')} patients" + (
            "" if read.get("instances_in_archive") == 10_000 else " (NOT the issue's scale)"
        )
        for key, target, stat, limit in (
            ("qido_instances_by_patient", "read side: QIDO p95 < 50 ms", "p95_ms", 50.0),
            (
                "review_page_big_patient",
                "read side: review page p95 < 200 ms (patient with "
                f"{read.get('big_patient_photos', '?')} photos)",
                "p95_ms",
                200.0,
            ),
            ("thumbnail", "read side: thumbnail p50 < 10 ms", "p50_ms", 10.0),
        ):
            if key in read:
                value = read[key][stat]["median"]
                errors = read[key]["errors"]["max"]
                rows.append(
                    (
                        target,
                        f"{value:.1f} ms over {scale}, {errors:.0f} errors",
                        verdict(value < limit and errors == 0),
                    )
                )
            else:
                rows.append((target, "-", NOT_MEASURED))
        # The scenarios of tests/bench/shutter.py and phone_pages.py give their own rows.
        for target, figure, met in (*shutter.target_rows(r), *phone_pages.target_rows(r)):
            rows.append((target, figure, verdict(met)))
        from tests.bench import search

        rows += search.targets(r)
        rows += extra_targets(r)
        return rows

    def write(self) -> None:
        ratios = self.ratios()
        self.results["ratios"] = ratios
        for key, why in (
            ("6_read_side", "not run (--only ingest, or the run stopped before it)"),
            ("7_delivery", "not run (--only read, Orthanc absent, or the run stopped before it)"),
            (shutter.KEY, "not run (left out by --only, or the run stopped before it)"),
            (phone_pages.KEY, "not run (left out by --only, or the run stopped before it)"),
        ):
            self.results.setdefault(key, {"status": NOT_MEASURED, "why": why})
        document = {
            "machine": machine(),
            "config": {
                "quick": self.config.quick,
                "repeat": self.config.repeat,
                "clients": list(self.config.clients),
                "requests_per_run": {str(c): self.config.count(c) for c in self.config.clients},
                "time_cap_s": self.config.time_cap,
            },
            "results": self.results,
            "targets": [
                {"target": t, "figure": f, "verdict": v} for t, f, v in self.targets(ratios)
            ],
        }
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "latest.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
        (OUT_DIR / "latest.md").write_text(markdown(document))
        self.log(f"wrote {OUT_DIR / 'latest.json'} and {OUT_DIR / 'latest.md'}")


# -- scenarios in modules of their own (tests/bench/delivery.py, server_cpu.py) ------------------


def extra_ratios(results: dict[str, Any]) -> dict[str, float]:
    from tests.bench import delivery, server_cpu

    out: dict[str, float] = {}
    if (ratio := delivery.ratio(results)) is not None:
        out["delivery_pointcare_over_orthanc_forwarding"] = ratio
    if (ratio := server_cpu.ratio(results)) is not None:
        out["fast_path_server_cpu_over_floor"] = ratio
    return out


def extra_targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    from tests.bench import delivery, server_cpu

    return [delivery.target(results), server_cpu.target(results)]


def extra_markdown(results: dict[str, Any]) -> list[str]:
    from tests.bench import delivery, profiling, server_cpu

    return [
        *delivery.markdown(results),
        *server_cpu.markdown(results),
        *profiling.markdown(results),
    ]


# -- markdown ------------------------------------------------------------------------------------


def fmt(figure: dict[str, float] | None, digits: int = 1) -> str:
    if not figure:
        return "-"
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"


def throughput_table(title: str, block: dict[str, Any], with_rss: bool = True) -> list[str]:
    lines = [
        f"#### {title}",
        "",
        "| clients | photos/s | MB/s | p50 ms | p95 ms | max ms | server CPU ms/photo "
        "| server peak RSS MB | stored bytes/photo | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for clients, figures in block.items():
        if not isinstance(figures, dict) or "photos_per_s" not in figures:
            continue
        rss = fmt(figures.get("server_peak_rss_mb"), 0) if with_rss else "-"
        lines.append(
            f"| {clients} | {fmt(figures['photos_per_s'], 2)} | {fmt(figures['mb_per_s'])} "
            f"| {fmt(figures['p50_ms'], 0)} | {fmt(figures['p95_ms'], 0)} "
            f"| {fmt(figures['max_ms'], 0)} | {fmt(figures.get('server_cpu_ms_per_photo'))} "
            f"| {rss} "
            f"| {fmt(figures.get('stored_bytes_per_photo'), 0)} | {figures['errors']['max']:.0f} |"
        )
    return [*lines, ""]


def markdown(document: dict[str, Any]) -> str:
    m, c, r = document["machine"], document["config"], document["results"]
    lines = [
        "# Pointcare benchmark",
        "",
        f"{m['date']} · {m['cpu_count']} CPUs ({m['cpu_model']}) · {m['memory_gb']} GB · "
        f"Python {m['python']} · Pillow {m['pillow']} · pydicom {m['pydicom']} · "
        f"{m['orthanc']} · load average at the end {m['loadavg_1_5_15_min_at_end']} "
        "(other work on the machine makes the figures noisy)",
        "",
        f"Mode: {'quick' if c['quick'] else 'full'}, {c['repeat']} repeats, requests per run "
        f"{c['requests_per_run']}, time cap {c['time_cap_s']:g} s per run. Every figure: "
        "median (min–max) over the repeats.",
        "",
        "## Targets",
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['figure']} | {t['verdict']} |" for t in document["targets"]]
    lines += ["", "## Ratios (same run)", ""]
    lines += [f"- {k}: {v:.3f}" for k, v in r.get("ratios", {}).items()]
    lines += ["", "## Scenarios", ""]
    fast = r.get("1_ingest_fast")
    if fast:
        lines += throughput_table(
            f"1. Ingest, fast path (12 MP upright JPEG, {fast.get('photo_bytes', 0) / MB:.2f} MB)",
            fast,
        )
    for name, block in r.get("2_ingest_reencode", {}).items():
        lines += throughput_table(
            f"2. Ingest, re-encode path: {name} ({block.get('photo_bytes', 0) / MB:.2f} MB)", block
        )
    for key, title in (
        ("3_orthanc_stow", "3. Orthanc STOW-RS of scenario 1's objects"),
        ("4_orthanc_create_dicom", "4. Orthanc /tools/create-dicom (JPEG data URI)"),
    ):
        block = r.get(key, {})
        if block.get("status") == NOT_MEASURED:
            lines += [f"#### {title}", "", f"{NOT_MEASURED}: {block.get('why')}", ""]
        elif block:
            lines += throughput_table(title, block, with_rss=False)
        paired = block.get("paired_x4")
        if paired:
            lines[-1:-1] = [
                "",
                f"- Paired with the fast path, {paired['rounds']} rounds of "
                f"{paired['requests_per_round']} photos at {paired['clients']} clients (a run to "
                f"our server, then {paired['orthanc_side']}): ours "
                f"{fmt(paired['pointcare_photos_per_s'], 2)} photos/s, Orthanc's "
                f"{fmt(paired['orthanc_photos_per_s'], 2)}; ratio per round "
                f"{fmt(paired['pointcare_over_orthanc'], 2)}",
            ]
    floor = r.get("5_floor")
    if floor:
        lines += [
            "#### 5. Floor (rotated 12 MP JPEG with whole MCUs, in one process)",
            "",
            f"- Pillow decode + exif_transpose + encode q95: "
            f"{fmt(floor['pillow_decode_orient_encode_ms'], 0)} ms",
            f"- normalise_photo (turned losslessly): {fmt(floor['normalise_photo_ms'], 0)} ms",
            "- the fast path's image work alone (normalise_photo of the upright JPEG), one "
            f"thread per core: {fmt(floor.get('fast_path_image_work_all_cores_photos_per_s'))} "
            "photos/s, the ceiling of scenario 1 on this machine; CPU per photo "
            f"{fmt(floor.get('fast_path_image_work_cpu_ms_per_photo'))} ms",
        ]
        for name, block in r.get("2_ingest_reencode", {}).items():
            paired = block.get("paired_with_floor")
            if paired:
                lines.append(
                    f"- {name}, in alternation, {paired['rounds']} rounds: the server took "
                    f"{fmt(paired['server_ms'], 0)} ms, the floor {fmt(paired['floor_ms'], 0)} "
                    f"ms; ratio {fmt(paired['server_over_floor'], 2)}"
                )
                if "colour_floor_ms" in paired:
                    lines.append(
                        "  - with its colours also brought from its ICC profile to sRGB (Pillow's "
                        f"ImageCms, in place, one thread, in the same rounds), the floor took "
                        f"{fmt(paired['colour_floor_ms'], 0)} ms; the server over this floor "
                        f"{fmt(paired['server_over_colour_floor'], 2)}"
                    )
        lines.append("")
    read = r.get("6_read_side", {})
    if "qido_instances_by_patient" in read:
        lines += [
            f"#### 6. Read side ({read['instances_in_archive']} instances across "
            f"{read['patients']} patients, one with {read['big_patient_photos']} photos; "
            "1 client)",
            "",
            f"Seeded in {read['seeding_s']} s by {read['seeding']}.",
            "",
            "| request | p50 ms | p95 ms | max ms | errors |",
            "|---|---|---|---|---|",
        ]
        for name in (
            "qido_instances_by_patient",
            "qido_studies_by_patient",
            "qido_instances_big_patient",
            "review_page_big_patient",
            "thumbnail",
        ):
            f = read[name]
            lines.append(
                f"| {name} | {fmt(f['p50_ms'])} | {fmt(f['p95_ms'])} | {fmt(f['max_ms'])} "
                f"| {f['errors']['max']:.0f} |"
            )
        lines += [
            "",
            f"- QIDO of the big patient returned {read['big_patient_qido_instances_returned']} "
            "instances (one page); the review page of that patient is "
            f"{read['review_page_bytes'] / 1000:.0f} kB with {read['review_page_thumbnails']} "
            "photo cards",
            "",
        ]
    delivery = r.get("7_delivery", {})
    if "photos_per_s_incl_worker_startup" in delivery:
        lines += [
            f"#### 7. Delivery (outbox of {delivery['photos_per_repeat']} photos to Orthanc, "
            "one `pointcare worker`)",
            "",
            f"- photos/s from worker start: {fmt(delivery['photos_per_s_incl_worker_startup'], 2)}",
            f"- photos/s first to last delivered: "
            f"{fmt(delivery.get('photos_per_s_first_to_last'), 2)}",
            "",
        ]
    for key, title in (("6_read_side", "6. Read side"), ("7_delivery", "7. Delivery")):
        block = r.get(key, {})
        if block.get("status") == NOT_MEASURED:
            lines += [f"#### {title}", "", f"{NOT_MEASURED}: {block.get('why')}", ""]
    lines += shutter.markdown_lines(r)
    lines += phone_pages.markdown_lines(r)
    from tests.bench import search

    lines += search.markdown(r)
    lines += extra_markdown(r)
    for note in sorted(set(r.get("notes", []))):
        lines.append(f"- note: {note}")
    return "\n".join(lines).rstrip() + "\n"


# -- main ----------------------------------------------------------------------------------------


SCENARIOS = (
    "ingest",
    "read",
    "delivery",
    "cpu",
    "search",
    "search_at_scale",
    "shutter",
    "phone_pages",
)
"""What ``--only`` selects: the ingest scenarios (1-5, 7), the read side (6), delivery
(Pointcare's worker against Orthanc's forwarding, with the backlog), cpu (the fast path's
server CPU against its floor), search at hospital scale against Orthanc on PostgreSQL (8, 9;
``tests/bench/search.py``; search_at_scale: 9 alone), shutter to stored and the phone pages."""


RETIRED = "retired (issue 26): reported only"
"""The verdict of the first round's targets against Orthanc's ingest, which compare a validating,
durable ingest with servers that neither decode nor fsync."""


def scenario_names(text: str) -> tuple[str, ...]:
    """``--only``'s comma list, each name one of ``SCENARIOS``."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or '(none)'}; choose from {', '.join(SCENARIOS)}"
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests per run")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per figure")
    parser.add_argument(
        "--read-scale",
        choices=("full", "quick"),
        default=None,
        help="scenario 6's archive: full (10,000 instances, 500 patients; the default) or "
        "quick (a tenth; the default with --quick)",
    )
    parser.add_argument(
        "--only",
        type=scenario_names,
        default=SCENARIOS,
        help="a comma list of the scenarios to run, of: "
        + ", ".join(SCENARIOS)
        + " (ingest: 1-5 and 7; read: 6; search: 8, 9; search_at_scale: 9; default: all)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record py-spy profiles of the delivery worker and the server into "
        "var/bench/profiles/ (their top entries go into the report)",
    )
    parser.add_argument(
        "--delivery-photos", type=int, default=500, help="photos per delivery round (500)"
    )
    parser.add_argument(
        "--delivery-rounds", type=int, default=None, help="delivery rounds (5; 2 with --quick)"
    )
    parser.add_argument(
        "--delivery-backlog",
        type=int,
        default=3600,
        help="photos in the backlog drained after the rounds (3600; 0: none)",
    )
    parser.add_argument(
        "--cpu-rounds", type=int, default=None, help="server CPU rounds (8; 4 with --quick)"
    )
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 5)
    read_quick = args.read_scale == "quick" if args.read_scale else args.quick
    config = Config(
        quick=args.quick,
        repeat=repeat,
        time_cap=20.0 if args.quick else 60.0,
        read_quick=read_quick,
        profile=args.profile,
    )
    bench = Bench(config)
    try:
        if "ingest" in args.only:
            objects = bench.pointcare_scenarios()
            bench.orthanc_scenarios(objects)
        if "cpu" in args.only:
            from tests.bench import server_cpu

            bench.log("fast path: server CPU per photo against its floor, in alternation")
            bench.results[server_cpu.KEY] = server_cpu.run(
                bench, rounds=args.cpu_rounds or (4 if args.quick else 8), photos=40
            )
        if "delivery" in args.only:
            from tests.bench import delivery

            bench.log("delivery: Pointcare's worker against Orthanc's DICOMweb forwarding")
            bench.results[delivery.KEY] = delivery.run(
                bench,
                photos=args.delivery_photos,
                rounds=args.delivery_rounds or (2 if args.quick else 5),
                backlog=args.delivery_backlog,
            )
        if "read" in args.only:
            bench.results["6_read_side"] = bench.read_side()
        if "search" in args.only or "search_at_scale" in args.only:
            from tests.bench import search

            search.run(bench, against_orthanc="search" in args.only)
        if "shutter" in args.only:
            bench.log("shutter to stored: the bedside page in Chromium, emulated ward networks")
            bench.results[shutter.KEY] = shutter.measure(repeat, bench.work, bench.log)
        if "phone_pages" in args.only:
            bench.log("phone pages: Lighthouse (mobile) on sign-in, home, scan, capture")
            bench.results[phone_pages.KEY] = phone_pages.measure(
                1 if args.quick else 3, bench.work, bench.log
            )
    finally:
        bench.write()
        shutil.rmtree(bench.work, ignore_errors=True)
    return 0
