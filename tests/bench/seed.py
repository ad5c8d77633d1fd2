"""Seed a read-side archive quickly: real objects and the real index, through the real ingest.

Every photo goes through ``PhotoIngest.store`` (the code path of ``POST /api/v1/photos``, minus
HTTP): the same validation, DICOM object, thumbnail, index row, consent and audit event. Two
things make 10,000 photos take minutes rather than an hour, and both are stated in the report:

* the photo is a 1600 x 1200 JPEG (the 12 MP bench photo scaled down), kept as is by the fast
  path: the read side reads index rows, thumbnails and object headers, whose sizes do not
  depend on the photo's;
* the file store's fsyncs are skipped while seeding (``os.fsync`` is replaced in this process
  only, for the duration of :func:`seed_read_side`). Durability is measured by the ingest
  scenarios, not here; SQLite still commits with ``synchronous=FULL``.

The seeded data dir is then served by an ordinary ``pointcare serve`` (``LiveServer``).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

SEED_ISSUER = "BENCH"
BIG_PATIENT = "BIG000001"
SEED_PHOTO_SIZE = (1600, 1200)
BODY_SITES = ("14975008", "818981001", "77568009", "816094009")
"""Forearm, abdomen, back, chest: a mix of sites that take a laterality, none restricted."""


@dataclass(frozen=True)
class ReadSideScale:
    patients: int
    instances: int
    big_patient_photos: int
    """Photos of the one patient whose review page is measured (taken from ``instances``)."""

    @property
    def per_other_patient(self) -> float:
        return (self.instances - self.big_patient_photos) / max(1, self.patients - 1)


FULL_SCALE = ReadSideScale(patients=500, instances=10_000, big_patient_photos=1_000)
QUICK_SCALE = ReadSideScale(patients=50, instances=1_000, big_patient_photos=200)


@dataclass(frozen=True)
class SeededArchive:
    scale: ReadSideScale
    mrns: list[str]
    """Every seeded patient's MRN, the big patient first."""
    issuer: str
    seconds: float


def seed_photo(upright_jpeg: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(upright_jpeg)) as image:
        small = image.convert("RGB").resize(SEED_PHOTO_SIZE)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@contextlib.contextmanager
def _without_file_fsync() -> Iterator[None]:
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = real


def seed_read_side(
    data_dir: Path,
    scale: ReadSideScale,
    upright_jpeg: bytes,
    *,
    log: Callable[[str], None] = print,
    threads: int = 2,
) -> SeededArchive:
    """Fill ``data_dir`` (a fresh one) with ``scale`` photos; returns who holds them."""
    import time

    from pointcare.auth.accounts import add_user, find_user
    from pointcare.auth.principal import Principal
    from pointcare.auth.roles import Role
    from pointcare.capture.command import Source
    from pointcare.capture.fields import CaptureFields, read_command
    from pointcare.cli import DEMO_USERS
    from pointcare.domain.objects import ObjectKind
    from pointcare.domain.patients import PatientIdentity, Sex
    from pointcare.identity.directory import upsert_patient
    from pointcare.runtime import build_runtime
    from pointcare.settings import Settings
    from tests.support.consent import CLINICAL_ONLY

    started = time.monotonic()
    photo = seed_photo(upright_jpeg)
    runtime = build_runtime(Settings.from_env(data_dir=data_dir))
    rng = random.Random(6)  # the same archive every run
    mrns = [BIG_PATIENT] + [f"BP{n:07d}" for n in range(1, scale.patients)]
    try:
        with runtime.db.write() as session:
            for username, role, display, password in DEMO_USERS:
                if find_user(session, username) is None:
                    add_user(
                        session,
                        username=username,
                        role=role,
                        password=password,
                        display_name=display,
                    )
            nurse = find_user(session, "nurse")
            assert nurse is not None
            who = Principal(nurse.id, nurse.username, nurse.display_name, Role(nurse.role))
            for index, mrn in enumerate(mrns):
                upsert_patient(
                    session,
                    PatientIdentity(
                        mrn=mrn,
                        issuer=SEED_ISSUER,
                        family_name=f"Bench{index:04d}",
                        given_name="Patient",
                        birth_date=date(1950, 1, 1) + timedelta(days=index * 37),
                        sex=Sex.FEMALE if index % 2 else Sex.MALE,
                    ),
                )
        # Who gets which photo: the big patient its share, the others the rest round-robin.
        owners = [BIG_PATIENT] * scale.big_patient_photos
        others = mrns[1:]
        owners += [others[i % len(others)] for i in range(scale.instances - len(owners))]
        now = datetime.now().astimezone()
        per_day = {BIG_PATIENT: 10}

        def submit(number: int, mrn: str) -> None:
            # 10 photos a day for the big patient (100 days), 6 a day for the others.
            day = number // per_day.get(mrn, 6)
            captured = now - timedelta(days=day + 1, minutes=rng.randrange(600))
            command = read_command(
                CaptureFields(
                    patient_id=mrn,
                    issuer=SEED_ISSUER,
                    body_site=BODY_SITES[number % len(BODY_SITES)],
                    laterality="L",
                    description=f"bench photo {number}",
                    capture_id=str(uuid.uuid4()),
                    captured_at=captured.isoformat(),
                    allow_duplicate="true",
                    **CLINICAL_ONLY,
                ),
                kind=ObjectKind.PHOTO,
                source=Source.API,
                now=now,
            )
            runtime.capture.capture(who, command, photo)

        counts: dict[str, int] = {}
        jobs = []
        for mrn in owners:
            jobs.append((counts.get(mrn, 0), mrn))
            counts[mrn] = counts.get(mrn, 0) + 1
        with _without_file_fsync(), ThreadPoolExecutor(threads) as pool:
            for done, _ in enumerate(pool.map(lambda job: submit(*job), jobs), start=1):
                if done % 1000 == 0:
                    log(f"  seeded {done}/{len(jobs)} photos")
    finally:
        runtime.close()
    return SeededArchive(scale, mrns, SEED_ISSUER, time.monotonic() - started)
