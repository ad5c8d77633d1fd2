"""Changing POINTCARE_ARCHIVE on an installation with photos, against a real Orthanc.

dicomweb → builtin: photos already delivered (their spool copy gone) are read from the PACS
while POINTCARE_DICOMWEB_URL still names it; without it Pointcare refuses to start and says
why. builtin → dicomweb: ``pointcare archive backfill`` queues what was stored before, once.
"""

from __future__ import annotations

import pytest

from pointcare.archive.outbox import DeliveryState
from pointcare.archive.switching import ArchiveSwitchRefused
from pointcare.cli import main
from pointcare.runtime import build_runtime
from tests.integration.delivery.conftest import (
    MakeSite,
    in_process_app,
    upload_photos,
    wait_for,
)
from tests.integration.faults.conftest import WADO_ACCEPT, wado_path
from tests.support.orthanc import Orthanc
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow


def test_back_to_builtin_reads_delivered_photos_from_the_pacs_or_refuses_to_start(
    orthanc: Orthanc, make_site: MakeSite, photos: list[bytes]
) -> None:
    site = make_site(orthanc)
    with in_process_app(site) as client:
        [photo] = upload_photos(client, site, photos[:1])
    runtime = build_runtime(site.settings)
    forwarder = runtime.new_forwarder()
    assert forwarder is not None
    assert forwarder.run_once() == 1
    runtime.close()
    assert not site.spool_files()  # only Orthanc holds it now

    site.values["archive"] = "builtin"  # the PACS is still configured: read from it
    with in_process_app(site) as client:
        read = client.get(wado_path(photo), headers={**site.headers("admin"), **WADO_ACCEPT})
    assert read.status_code == 200
    assert photo["sop_instance_uid"].encode() in read.content

    for name in ("dicomweb_url", "dicomweb_username", "dicomweb_password"):
        site.values[name] = ""  # no PACS left to read from: refused, with the way out
    with pytest.raises(ArchiveSwitchRefused, match="1 photo"):
        build_runtime(site.settings)
    server = LiveServer(data_dir=site.data_dir, env=site.env())
    with pytest.raises(RuntimeError, match="set POINTCARE_ARCHIVE=dicomweb again"):
        server.start()


def test_backfill_queues_what_the_builtin_archive_stored_before(
    orthanc: Orthanc,
    make_site: MakeSite,
    photos: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = make_site(orthanc, archive="builtin")
    with in_process_app(site) as client:
        stored = upload_photos(client, site, photos[:3])
    assert site.deliveries() == []

    for name, value in site.env(archive="dicomweb").items():
        monkeypatch.setenv(name, value)
    assert main(["archive", "backfill"]) == 0
    assert main(["archive", "backfill"]) == 0  # nothing twice
    assert capsys.readouterr().out.splitlines() == [
        "queued 3 object(s) for the PACS; the forwarders send them from now on",
        "queued 0 object(s) for the PACS; the forwarders send them from now on",
    ]
    site.values["archive"] = "dicomweb"
    runtime = build_runtime(site.settings)
    try:
        forwarder = runtime.new_forwarder()
        assert forwarder is not None
        wait_for(
            lambda: (
                forwarder.run_once() == 0 and site.states()[DeliveryState.DELIVERED] == len(stored)
            ),
            timeout=30,
            what="the backfilled photos delivered",
        )
    finally:
        runtime.close()
    assert sorted(orthanc.sop_uids(stored[0]["study_instance_uid"])) == sorted(
        photo["sop_instance_uid"] for photo in stored
    )
