"""Several app nodes on one PostgreSQL: two ``pointcare serve`` (each with its forwarder) and two
``pointcare worker`` share the outbox; row locks (``FOR UPDATE SKIP LOCKED``) and leases hand
every photo to exactly one forwarder, so each is sent once and stored once.

The nodes share the data folder (the spool), as app nodes on one host or on a shared volume do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from pointcare.archive.outbox import DeliveryState
from tests.conftest import selected_backends
from tests.integration.delivery.conftest import (
    PHOTO_COUNT,
    MakeSite,
    WorkerProcess,
    upload_photos,
    wait_for,
)
from tests.support.orthanc import Orthanc
from tests.support.pacs_proxy import PacsProxy
from tests.support.postgres import PostgresCluster
from tests.support.server import LiveServer

pytestmark = pytest.mark.slow

BATCH_LOG = re.compile(r"delivery batch owner=(\S+) claimed=\d+ delivered=(\d+)")


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """This module's database: always PostgreSQL (SQLite is one node's database)."""
    if "postgresql" not in selected_backends():
        pytest.skip("PostgreSQL is not among the selected test databases")
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.database() as url:
        yield url


def test_two_app_nodes_and_two_workers_deliver_every_photo_exactly_once(
    orthanc: Orthanc,
    make_site: MakeSite,
    photos: list[bytes],
    workers: Callable[[dict[str, str]], WorkerProcess],
) -> None:
    with PacsProxy(orthanc.url) as proxy:
        site = make_site(
            orthanc,
            via=proxy.dicomweb_url,
            delivery_batch_size=4,
            dicomweb_timeout_seconds=10.0,
            delivery_lease_seconds=30.0,  # no lease may expire here: each photo is sent once
        )
        env = site.env()
        started = [workers(env), workers(env)]  # they start up while the servers do
        with (
            LiveServer(data_dir=site.data_dir, env=env) as first,
            LiveServer(data_dir=site.data_dir, env=env) as second,
        ):
            stored = upload_photos([first.url, second.url], site, photos)
            wait_for(
                lambda: site.states()[DeliveryState.DELIVERED] == PHOTO_COUNT,
                timeout=60,
                what="all photos delivered",
            )
            logs = first.stderr + second.stderr + "".join(w.stderr for w in started)

    sent = {photo["sop_instance_uid"] for photo in stored}
    assert proxy.sent_counts() == dict.fromkeys(sent, 1)  # each photo sent exactly once
    in_pacs = orthanc.sop_uids(stored[0]["study_instance_uid"])
    assert sorted(in_pacs) == sorted(sent)
    assert orthanc.count_patient_instances(site.mrn) == PHOTO_COUNT
    assert all(d.attempts == 1 and d.lease_owner is None for d in site.deliveries())
    delivered_by: dict[str, int] = {}
    for owner, count in BATCH_LOG.findall(logs):
        delivered_by[owner] = delivered_by.get(owner, 0) + int(count)
    assert sum(delivered_by.values()) == PHOTO_COUNT
    assert len([owner for owner, count in delivered_by.items() if count]) >= 2  # shared work
    assert not site.spool_files()
