"""``pointcare audit verify``, ``audit checkpoint`` and ``audit export``: the trail from the
command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pointcare.audit.anchor import checkpoint_now, latest_checkpoint
from pointcare.audit.chain import ChainStatus
from pointcare.audit.events import Actor, AuditAction, AuditEvent
from pointcare.audit.fhir import write_ndjson
from pointcare.audit.reading import AuditQuery, matching, verify_chain
from pointcare.audit.trail import record
from pointcare.runtime import build_runtime
from pointcare.settings import Settings


def operator() -> Actor:
    """Whoever runs the command, named by the operating system."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor.operator(name[:64])


def add_commands(commands: Any) -> None:
    """Add ``audit verify`` and ``audit export`` to the ``pointcare`` command's subparsers."""
    actions = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="action", required=True
    )
    verify = actions.add_parser(
        "verify",
        help="check the hash chain against the latest checkpoint; non-zero at the first bad "
        "event, or when the end was cut off",
    )
    verify.set_defaults(handler=_verify)
    checkpoint = actions.add_parser(
        "checkpoint", help="verify, then write a signed checkpoint (file and syslog)"
    )
    checkpoint.set_defaults(handler=_checkpoint)
    export = actions.add_parser("export", help="write FHIR R4 AuditEvent NDJSON")
    export.add_argument("--since", type=_aware_time, help="ISO time, e.g. 2026-05-01T00:00Z")
    export.add_argument("--patient", help="only events about this MRN")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=_export)


def _aware_time(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {raw!r} (e.g. 2026-05-01 or 2026-05-01T08:00+02:00)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _verify(settings: Settings, _args: argparse.Namespace) -> int:
    path, key = settings.effective_audit_checkpoint_file, settings.effective_audit_key
    try:
        checkpoint = latest_checkpoint(path, key)
    except ValueError as exc:
        print(f"pointcare: audit checkpoints tampered with: {exc}", file=sys.stderr)
        return 1
    runtime = build_runtime(settings)
    try:
        with runtime.db.session() as session:
            status = verify_chain(session, checkpoint)
    finally:
        runtime.close()
    if status.problem is not None:
        return _broken(status, f"{status.verified} events before it verified")
    if checkpoint is None and status.verified:
        print(
            f"pointcare: {status.verified} events hold together, but there is no checkpoint in "
            f"{path}: an end cut off could not be seen (pointcare serve writes checkpoints; "
            "so does pointcare audit checkpoint)",
            file=sys.stderr,
        )
        return 1
    anchored = f", up to {checkpoint.describe()} ({checkpoint.seq})" if checkpoint else ""
    print(f"audit trail verified: {status.verified} events{anchored}")
    return 0


def _checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    runtime = build_runtime(settings)
    try:
        status = checkpoint_now(
            runtime.db,
            settings.effective_audit_checkpoint_file,
            settings.effective_audit_key,
            syslog=settings.audit_syslog,
        )
    except ValueError as exc:
        print(f"pointcare: audit checkpoints tampered with: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    if status.problem is not None:
        return _broken(status, "no checkpoint written")
    print(f"audit checkpoint written to {settings.effective_audit_checkpoint_file}")
    return 0


def _broken(status: ChainStatus, then: str) -> int:
    assert status.problem is not None
    print(
        f"pointcare: audit trail broken at event {status.problem.seq}: "
        f"{status.problem.problem} ({then})",
        file=sys.stderr,
    )
    return 1


def _export(settings: Settings, args: argparse.Namespace) -> int:
    query = AuditQuery(since=args.since, patient_mrn=(args.patient or "").strip() or None)
    runtime = build_runtime(settings)
    try:
        with runtime.db.session() as session:
            if args.output is None:
                count = write_ndjson(matching(session, query), sys.stdout)
            else:
                with args.output.open("w", encoding="utf-8") as out:
                    count = write_ndjson(matching(session, query), out)
        with runtime.db.write() as session:  # exporting the trail is itself audited
            event = AuditEvent(
                action=AuditAction.EXPORT,
                actor=operator(),
                details={
                    "what": "audit trail",
                    "events": count,
                    "since": args.since.isoformat() if args.since else None,
                    "patient": query.patient_mrn,
                },
            )
            record(session, event)
    finally:
        runtime.close()
    if args.output is not None:
        print(f"exported {count} audit events to {args.output}", file=sys.stderr)
    return 0
