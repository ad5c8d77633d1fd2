"""Fixtures for the identity tests: a migrated database per test, on each backend, and an ADT
listener (MLLP) on the test's database with a client to send it messages."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator

import hl7
import pytest
from hl7.client import MLLPClient
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from pointcare.identity.adt_feed import adt_server
from pointcare.identity.demo import seed_demo
from pointcare.identity.mllp import MllpServer
from pointcare.runtime import Runtime
from tests.conftest import TEST_AUDIT_KEY
from tests.support.hl7_messages import ack_of

Address = tuple[str, int]
Send = Callable[[str | bytes], hl7.Message]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, audit_key=TEST_AUDIT_KEY)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(db: Database) -> Database:
    """The database with the demo patients in it."""
    with db.write() as session:
        seed_demo(session)
    return db


@pytest.fixture
def session(demo_db: Database) -> Iterator[Session]:
    """A read session on the demo directory."""
    with demo_db.session() as reader:
        yield reader


@pytest.fixture
def listener(runtime: Runtime) -> Iterator[Address]:
    with running(adt_server(runtime.db, runtime.settings, host="127.0.0.1", port=0)) as address:
        yield address


@pytest.fixture
def send(listener: Address) -> Iterator[Send]:
    """``send(message)``: one message over one open connection, its parsed ACK back."""
    with MLLPClient(*listener) as client:
        client.socket.settimeout(30)

        def exchange(message: str | bytes) -> hl7.Message:
            return ack_of(client.send_message(message))

        yield exchange


@contextlib.contextmanager
def running(server: MllpServer) -> Iterator[Address]:
    """Run ``server`` on an event loop in a thread of its own (as the web server's loop would)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        yield server.address
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
