"""Files written for a transaction, and what becomes of them when the transaction fails.

A stored object's files (its Part-10 file, a photo's thumbnail) are written durably before the
index row that points to them commits. When the transaction fails for certain (a statement
failed, or the code raised before the COMMIT), nothing was stored and the files are removed.
When the COMMIT itself went unanswered (``CommitOutcomeUnknown``) the row may be on disk:
removing the files then would lose an object the database says is stored. They are kept, and the
caller looks for the row from a new connection (``settle``). Files whose row never committed are
orphans, which the archive's reconciler removes once they are older than any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pointcare.archive.files import FileStore
from pointcare.db.engine import CommitOutcomeUnknown, Database
from pointcare.errors import ServiceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreOutcomeUnknown(ServiceUnavailable):
    """The database did not confirm the store and nothing of it was found afterwards."""

    title = "Not confirmed"


@contextmanager
def written_files(files: FileStore) -> Iterator[list[str]]:
    """Collects the paths written for one transaction (append each as it is written): removed
    when the transaction fails for certain, kept when its COMMIT went unanswered."""
    written: list[str] = []
    try:
        yield written
    except CommitOutcomeUnknown:
        raise
    except BaseException:
        for path in written:
            files.remove(path)
        raise


def settle(db: Database, find: Callable[[Session], T | None], *, what: str, key: str) -> T:
    """After ``CommitOutcomeUnknown``: what the transaction stored, found from a new connection.

    ``find`` looks for the transaction's own row (by a key only it wrote). Not found, or the
    database still unreachable: ``StoreOutcomeUnknown`` (503), and the files stay for the
    reconciler. A retry with the same capture id then finds the object if the COMMIT did land.
    """
    try:
        with db.session() as session:
            found = find(session)
    except DBAPIError:
        found = None
    if found is not None:
        log.warning("%s stored although its COMMIT went unanswered: %s", what, key)
        return found
    log.warning(
        "%s not confirmed: its COMMIT went unanswered and it was not found (%s); its files "
        "are left for the reconciler",
        what,
        key,
    )
    raise StoreOutcomeUnknown(
        f"The database did not confirm that the {what} was stored. Send it again: "
        "it will not be stored twice."
    )
