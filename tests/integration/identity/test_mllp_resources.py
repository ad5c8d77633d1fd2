"""Many idle MLLP connections cannot stop the ADT feed: idle ones are closed, connections past
the limit are closed on arrival, and a listener out of file descriptors says so once a minute,
not once a second, and serves again as soon as descriptors are free."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from pointcare.identity.adt_feed import adt_server
from pointcare.runtime import Runtime
from tests.integration.identity.conftest import Address, running
from tests.integration.identity.test_mllp import send_once
from tests.support.adt_listener import adt_listen
from tests.support.hl7_messages import adt, code, pid
from tests.support.server import free_port


@contextlib.contextmanager
def idle_connections(address: Address, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that send nothing."""
    opened = [socket.create_connection(address, timeout=10) for _ in range(count)]
    try:
        yield opened
    finally:
        for connection in opened:
            connection.close()


def closed_by_server(connection: socket.socket, within: float) -> bool:
    connection.settimeout(within)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_are_closed_and_the_feed_goes_on(runtime: Runtime) -> None:
    settings = replace(runtime.settings, adt_idle_timeout_seconds=0.5)
    with running(adt_server(runtime.db, settings, host="127.0.0.1", port=0)) as address:
        with idle_connections(address, 5) as idle:
            assert all(closed_by_server(connection, within=5) for connection in idle)
        assert code(send_once(address, adt("A01", pid=pid()))) == "AA"


def test_connections_past_the_limit_are_closed_on_arrival(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(runtime.settings, adt_max_connections=3)
    with running(adt_server(runtime.db, settings, host="127.0.0.1", port=0)) as address:
        with caplog.at_level(logging.WARNING, logger="pointcare.identity.mllp"):
            with idle_connections(address, 3) as held:
                time.sleep(0.2)  # all three accepted
                with idle_connections(address, 5) as extra:
                    assert all(closed_by_server(connection, within=5) for connection in extra)
                assert not closed_by_server(held[0], within=0.2)  # the first three stay
            refused = [r for r in caplog.records if "the most allowed" in r.getMessage()]
            assert len(refused) == 1  # five refusals, one line
        assert code(send_once(address, adt("A01", pid=pid()))) == "AA"  # room again


def test_a_listener_out_of_file_descriptors_logs_once_and_recovers(
    database_url: str, tmp_path: Path
) -> None:
    """``pointcare adt-listen`` with 64 file descriptors and no connection limit below that:
    100 idle connections exhaust them. Then idle connections time out and messages flow (and
    its ``--metrics-port`` counts them)."""
    metrics_port = free_port()
    settings = {"POINTCARE_ADT_MAX_CONNECTIONS": "1000", "POINTCARE_ADT_IDLE_TIMEOUT_SECONDS": "4"}
    with adt_listen(
        database_url,
        tmp_path,
        env=settings,
        file_limit=64,
        args=["--metrics-port", str(metrics_port)],
    ) as (address, log):
        with idle_connections(address, 100):
            time.sleep(3)  # asyncio retries the failing accept once a second
            assert code(send_once(address, adt("A01", pid=pid()))) == "AA"
        figures = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert 'pointcare_adt_messages_total{ack="AA"} 1.0' in figures
    text = log.read_text()
    assert "Too many open files" in text
    assert text.count("connections cannot be accepted") == 1
