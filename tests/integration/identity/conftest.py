"""Database fixtures for the identity tests: a migrated database per test, on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from pointcare.identity.demo import seed_demo
from tests.conftest import TEST_AUDIT_KEY


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
