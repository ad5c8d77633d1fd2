"""The reconciler: files without rows (a crash between writing a photo's files and committing
its row) are found and, once older than the grace period, removed; rows without files are
reported and fail ``pointcare archive check``; delivered photos' spool copies are not missed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare import audit
from pointcare.app import create_app
from pointcare.archive.reconcile import reconcile
from pointcare.auth.principal import Principal
from pointcare.auth.roles import Role
from pointcare.cli import main
from pointcare.corrections.service import Correction, CorrectionKind, correct
from pointcare.db.models import Instance, Patient, User
from pointcare.runtime import Runtime
from pointcare.settings import Settings
from tests.integration.delivery.conftest import small_photo, wait_for
from tests.integration.delivery.scripted import ScriptedArchive, forwarder_for
from tests.integration.faults.conftest import PATIENT, seed, send_photo
from tests.support.server import LiveServer
from tests.unit.dicom.test_pdf import a_pdf

GRACE = timedelta(minutes=60)
CRASH_DURING_INGEST = """
import os, sys
import pointcare.audit
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare import audit
from pointcare.app import create_app
from pointcare.settings import Settings
from tests.integration.delivery.conftest import small_photo
from tests.integration.faults.conftest import send_photo

def killed(*args, **kwargs):  # the files are written; the row's transaction is open
    os._exit(9)

pointcare.audit.record = killed
with TestClient(create_app(Settings.from_env())) as client:
    send_photo(client, {"Authorization": sys.argv[1]}, small_photo(99))
"""


def archive_files(settings: Settings) -> set[str]:
    root = settings.archive_dir
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def age(settings: Settings, paths: set[str], hours: float = 2) -> None:
    past = time.time() - hours * 3600
    for path in paths:
        os.utime(settings.archive_dir / path, (past, past))


def env_of(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "POINTCARE_DATA_DIR": str(settings.data_dir),
        "POINTCARE_DATABASE_URL": settings.effective_database_url,
        "POINTCARE_SECRET_KEY": settings.secret_key,
    }


def test_a_crash_between_writing_the_files_and_the_commit_leaves_orphans_that_go(
    settings: Settings, runtime: Runtime
) -> None:
    headers = seed(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        kept = send_photo(client, headers, small_photo(1))
        assert kept.response.status_code == 201
    before = archive_files(settings)

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_DURING_INGEST, headers["Authorization"]],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 9, crashed.stderr
    left = archive_files(settings) - before
    assert {path.split("/")[0] for path in left} == {"objects", "thumbnails"}  # both, no row

    young = reconcile(runtime.db, runtime.files, grace=GRACE, repair=True)
    assert sorted(orphan.path for orphan in young.orphans) == sorted(left)
    assert young.removed == 0  # younger than any store could be: perhaps still committing
    assert archive_files(settings) == before | left

    age(settings, left)
    old = reconcile(runtime.db, runtime.files, grace=GRACE, repair=True)
    assert (old.removed, old.missing) == (2, [])
    assert archive_files(settings) == before  # the acknowledged photo is untouched


def test_rows_without_files_fail_the_check_and_orphans_go_with_repair(
    settings: Settings,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    headers = seed(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        answers = [send_photo(client, headers, small_photo(n)).response.json() for n in range(2)]
    lost = next(p for p in archive_files(settings) if answers[0]["sop_instance_uid"] + ".dcm" in p)
    (settings.archive_dir / lost).unlink()
    stray = settings.archive_dir / "objects" / "1.2.3" / ".4.5.dcm.0a1b2c3d4e5f.tmp"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"half a photo")
    age(settings, {stray.relative_to(settings.archive_dir).as_posix()})

    for name, value in env_of(settings).items():
        monkeypatch.setenv(name, value)
    assert main(["archive", "check"]) == 1
    out = capsys.readouterr().out
    assert f"photo object of {answers[0]['sop_instance_uid']}: {lost}" in out
    assert "1 file(s) without an index row, 0 removed" in out
    assert stray.exists()
    assert main(["archive", "check", "--repair"]) == 1  # the missing file is still missing
    assert "1 file(s) without an index row, 1 removed" in capsys.readouterr().out
    assert not stray.exists()


def test_every_kind_of_stored_object_is_known_and_missed(
    settings: Settings, runtime: Runtime
) -> None:
    headers = seed(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        photo = send_photo(client, headers, small_photo(1)).response.json()
        document = client.post(
            "/api/v1/documents",
            data={"patient_id": PATIENT, "title": "Consent form", "capture_id": str(uuid4())},
            files={"file": ("consent.pdf", a_pdf(), "application/pdf")},
            headers=headers,
        )
        assert document.status_code == 201, document.text
    with runtime.db.session() as session:
        carer = session.scalars(select(User).where(User.username == "carer")).one()
        patient = session.scalars(select(Patient).where(Patient.mrn == PATIENT)).one()
        session.expunge_all()
    who = Principal(carer.id, carer.username, carer.display_name, Role.CLINICIAN)
    reason = "A blurred duplicate of the next photo"
    correct(
        runtime,
        who,
        audit.Actor.of(who),
        patient,
        [photo["sop_instance_uid"]],
        Correction(CorrectionKind.QUALITY, reason, str(uuid4())),
    )
    with runtime.db.session() as session:
        kinds = {i.kind: i for i in session.scalars(select(Instance))}
    assert set(kinds) == {"photo", "document", "rejection_note"}

    clean = reconcile(runtime.db, runtime.files, grace=GRACE, repair=False)
    assert (clean.files, clean.orphans, clean.missing) == (4, [], [])  # 3 objects, 1 thumbnail

    for kind in ("document", "rejection_note"):
        runtime.files.remove(kinds[kind].storage_path)
    missing = reconcile(runtime.db, runtime.files, grace=GRACE, repair=False).missing
    assert {(m.object_kind, m.role, m.sop_instance_uid) for m in missing} == {
        (kind, "object", kinds[kind].sop_instance_uid) for kind in ("document", "rejection_note")
    }


def test_delivered_photos_whose_spool_copy_went_are_not_missing(
    settings: Settings, runtime: Runtime
) -> None:
    runtime.settings = replace(settings, archive="dicomweb", dicomweb_url="http://127.0.0.1:9/")
    runtime.objects.deliver_to_pacs = True
    headers = seed(settings)
    with TestClient(create_app(runtime.settings, runtime=runtime, forward_to_pacs=False)) as c:
        send_photo(c, headers, small_photo(1))
    assert forwarder_for(runtime, ScriptedArchive()).run_once() == 1
    report = reconcile(runtime.db, runtime.files, grace=GRACE, repair=False)
    assert (report.files, report.orphans, report.missing) == (1, [], [])  # the thumbnail


def test_the_server_removes_old_orphans_when_it_starts(settings: Settings) -> None:
    orphan = settings.archive_dir / "thumbnails" / "99" / "1.2.99.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"\xff\xd8 a thumbnail whose photo never committed")
    age(settings, {"thumbnails/99/1.2.99.jpg"})
    env = {
        "POINTCARE_DATABASE_URL": settings.effective_database_url,
        "POINTCARE_SECRET_KEY": settings.secret_key,
    }
    with LiveServer(data_dir=settings.data_dir, env=env) as server:
        line = "archive reconciled files=1 orphans=1 removed=1 missing=0"
        wait_for(lambda: line in server.stderr, timeout=30, what="the reconciliation logged")
        assert not orphan.exists()
