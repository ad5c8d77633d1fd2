"""``pointcare archive backfill`` and ``pointcare archive check [--repair]``: the archive from
the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from pointcare.archive import switching
from pointcare.archive.reconcile import LISTED, reconcile
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
    check = actions.add_parser(
        "check",
        help="compare the archive's files with the index; exit 1 when indexed files are missing",
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="remove files without an index row older than POINTCARE_RECONCILE_GRACE_MINUTES",
    )
    check.set_defaults(handler=_check)


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


def _check(settings: Settings, args: argparse.Namespace) -> int:
    runtime = build_runtime(settings)
    try:
        report = reconcile(
            runtime.db,
            runtime.files,
            grace=timedelta(minutes=settings.reconcile_grace_minutes),
            repair=args.repair,
        )
    finally:
        runtime.close()
    print(f"{report.files} file(s) in the archive")
    print(f"{len(report.orphans)} file(s) without an index row, {report.removed} removed")
    for orphan in report.orphans[:LISTED]:
        print(f"  {orphan.path} ({orphan.size} bytes, {orphan.age_seconds / 60:.0f} min old)")
    print(f"{len(report.missing)} indexed file(s) missing")
    for entry in report.missing:
        print(f"  {entry.object_kind} {entry.role} of {entry.sop_instance_uid}: {entry.path}")
    return 1 if report.missing else 0
