"""``pointcare archive backfill`` and ``pointcare archive check``: the archive from the command
line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pointcare.archive import switching
from pointcare.db.types import utcnow
from pointcare.runtime import build_runtime
from pointcare.settings import Settings


def add_commands(commands: Any) -> None:
    """Add ``archive backfill`` and ``archive check`` to the ``pointcare`` command."""
    actions = commands.add_parser("archive", help="the archive and its delivery").add_subparsers(
        dest="action", required=True
    )
    backfill = actions.add_parser(
        "backfill",
        help="queue for the PACS what was stored before POINTCARE_ARCHIVE became dicomweb",
    )
    backfill.set_defaults(handler=_backfill)


def _backfill(settings: Settings, _args: argparse.Namespace) -> int:
    if not settings.delivers_to_pacs:
        print(
            "pointcare: backfill queues photos for the PACS: set POINTCARE_ARCHIVE=dicomweb and "
            "POINTCARE_DICOMWEB_URL first",
            file=sys.stderr,
        )
        return 2
    runtime = build_runtime(settings)
    try:
        with runtime.db.write() as session:
            queued = switching.backfill(session, utcnow())
    finally:
        runtime.close()
    print(f"queued {queued} object(s) for the PACS; the forwarders send them from now on")
    return 0
