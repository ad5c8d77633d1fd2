"""The ``pointcare`` command: serve, deliver to the PACS, accounts, tokens, patient import."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_, select

from pointcare import audit
from pointcare.archive import commands as archive_commands
from pointcare.audit import commands as audit_commands
from pointcare.auth.accounts import add_user, find_user
from pointcare.auth.tokens import mint_api_token
from pointcare.db.models import User
from pointcare.errors import PointcareError
from pointcare.launch.errors import LaunchConfigError
from pointcare.metrics import serve_process_metrics
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings

DEMO_USERS = (
    ("nurse", "photographer", "Nora Nurse", "nurse-demo-pass"),
    ("doctor", "clinician", "Dr Dan Doctor", "doctor-demo-pass"),
    ("admin", "admin", "Ada Admin", "admin-demo-pass"),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"pointcare: bad setting: {exc}", file=sys.stderr)
        return 2
    try:
        result: int = args.handler(settings, args)
        return result
    except LaunchConfigError as exc:
        print(f"pointcare: bad EHR launch configuration: {exc}", file=sys.stderr)
        return 2
    except PointcareError as exc:
        print(f"pointcare: {exc.detail}", file=sys.stderr)
        for key, message in exc.errors.items():
            print(f"  {key}: {message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pointcare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument(
        "--host", help="address to listen on (default: 127.0.0.1; with TLS 0.0.0.0, for phones)"
    )
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate made once for this machine (kept in the data dir)",
    )
    serve.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate chain")
    serve.add_argument("--tls-key", type=Path, help="the PEM private key of --tls-cert")
    serve.add_argument(
        "--demo", action="store_true", help="seed demo patients and users on first start"
    )
    serve.add_argument(
        "--no-forwarder",
        action="store_true",
        help="do not deliver to the PACS from this process (leave it to `pointcare worker`)",
    )
    serve.add_argument(
        "--adt-port",
        type=_tcp_port,
        help="also run the HL7 ADT listener (MLLP) on this port (default: POINTCARE_ADT_PORT)",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="deliver photos to the PACS until SIGTERM (POINTCARE_ARCHIVE=dicomweb)"
    )
    worker.add_argument("--metrics-port", type=_tcp_port, help=METRICS_PORT_HELP)
    worker.set_defaults(handler=_worker)

    users = commands.add_parser("users", help="manage local accounts").add_subparsers(
        dest="action", required=True
    )
    add = users.add_parser("add", help="add an account (password from a prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["photographer", "clinician", "admin"])
    add.add_argument("--display-name")
    add.set_defaults(handler=_users_add)

    token = commands.add_parser("token", help="print a bearer token for the API")
    token.add_argument("--user", required=True)
    token.add_argument(
        "--ttl", type=int, help="lifetime in seconds (default: POINTCARE_TOKEN_TTL_SECONDS)"
    )
    token.set_defaults(handler=_token)

    launch = commands.add_parser(
        "launch-url", help="print an EHR launch link (issuers with a local signing key only)"
    )
    launch.add_argument("--user", required=True, help="the user's id at the EHR (sub)")
    launch.add_argument("--patient", required=True, help="the patient's MRN")
    launch.add_argument("--view", choices=["capture", "review"])
    launch.add_argument("--issuer", help="issuer id (default: the only one that can sign)")
    launch.add_argument(
        "--role", help="the EHR role (default: the local user's role, else clinician)"
    )
    launch.add_argument(
        "--base-url", help="where Pointcare is reached (default: POINTCARE_PUBLIC_URL)"
    )
    launch.set_defaults(handler=_launch_url)

    patients = commands.add_parser("patients", help="the patient directory").add_subparsers(
        dest="action", required=True
    )
    load = patients.add_parser("import", help="import a CSV or a FHIR R4 Bundle of Patients")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_patients_import)

    adt = commands.add_parser("adt-listen", help="apply HL7 v2 ADT messages received over MLLP")
    adt.add_argument("--host", help="address to bind (default: POINTCARE_ADT_HOST, 127.0.0.1)")
    adt.add_argument(
        "--port", type=_tcp_port, help="TCP port (default: POINTCARE_ADT_PORT, else 2575)"
    )
    adt.add_argument("--metrics-port", type=_tcp_port, help=METRICS_PORT_HELP)
    adt.set_defaults(handler=_adt_listen)

    audit_commands.add_commands(commands)
    archive_commands.add_commands(commands)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=_migrate)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from pointcare.app import create_app
    from pointcare.serving.endpoint import endpoint

    if args.adt_port is not None:
        settings = dataclasses.replace(settings, adt_port=args.adt_port)
    listen = endpoint(
        settings.data_dir,
        host=args.host,
        port=args.port,
        tls=args.tls,
        cert=args.tls_cert,
        key=args.tls_key,
    )
    if listen.tls is not None:  # a cookie sent over HTTPS only, whatever POINTCARE_SECURE_COOKIES
        settings = dataclasses.replace(settings, secure_cookies=True)
    if args.demo and not (settings.launch_issuers_file or settings.launch_issuer):
        from pointcare.launch.demo import demo_issuers_file

        settings = dataclasses.replace(
            settings, launch_issuers_file=str(demo_issuers_file(settings.data_dir))
        )
    runtime = build_runtime(settings)
    if args.demo and not _seed_demo(runtime):
        runtime.close()
        return 2
    app = create_app(
        settings,
        runtime=runtime,
        forward_to_pacs=not args.no_forwarder,
        reconcile_archive=True,
        anchor_audit=True,
    )
    listen.announce(settings.institution_name, sys.stdout)
    if args.demo:
        _launch_hint(settings.public_url or listen.urls[0])
    uvicorn.run(
        app,
        host=listen.host,
        port=listen.port,
        log_level="info",
        proxy_headers=False,
        **listen.uvicorn_options(),
    )
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    runtime = build_runtime(settings)
    forwarder = runtime.new_forwarder()
    if forwarder is None:
        runtime.close()
        print(
            "pointcare: the worker delivers to a PACS: set POINTCARE_ARCHIVE=dicomweb and "
            "POINTCARE_DICOMWEB_URL",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("signal %d: stopping after the batch in flight", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.metrics_port:
        serve_process_metrics(args.metrics_port)
    print(f"Pointcare worker {forwarder.owner}: delivering to the PACS", flush=True)
    try:
        forwarder.run(stop)
    finally:
        runtime.close()
    return 0


def _seed_demo(runtime: Runtime) -> bool:
    """Add the demo patients and the demo accounts, whose passwords are published; refused
    (False) on a database that holds anyone else: a real one."""
    from pointcare.identity.demo import seed_demo
    from pointcare.launch.demo import DEMO_ISSUER

    with runtime.db.write() as session:
        others = session.scalar(
            select(func.count(User.id)).where(
                User.username.not_in([name for name, *_ in DEMO_USERS]),
                or_(User.external_issuer.is_(None), User.external_issuer != DEMO_ISSUER),
            )
        )
        if others:
            print(
                f"pointcare: refusing --demo: this database has {others} user(s) besides the "
                "demo accounts, so it is not a demo database, and --demo would add accounts "
                "whose passwords are printed below and in the README (nurse, doctor, admin). "
                "Use an empty data folder (POINTCARE_DATA_DIR) or database for a demo.",
                file=sys.stderr,
            )
            return False
        count = seed_demo(session)
        for username, role, display, password in DEMO_USERS:
            if find_user(session, username) is None:
                add_user(
                    session, username=username, role=role, password=password, display_name=display
                )
    print(
        "WARNING: demo mode: demo patients and accounts with published passwords are in this "
        "database. Never use it for real patients.",
        flush=True,
    )
    from pointcare.demo.histories import HISTORIES, seed_histories

    stored = seed_histories(runtime, datetime.now().astimezone())
    followed = ", ".join(history.mrn for history in HISTORIES)
    if stored:
        print(f"Demo photo histories: {stored} objects stored for {followed}.", flush=True)
    print(f"Demo data: {count} patients. Demo sign-ins (user / password / role):", flush=True)
    for username, role, _display, password in DEMO_USERS:
        print(f"  {username:<8} {password:<18} {role}", flush=True)
    return True


def _launch_hint(base_url: str) -> None:
    """How to try an EHR launch against this very server: its address and port as served."""
    print(
        "Try an EHR launch (demo issuer): pointcare launch-url --user nurse --patient PC100001"
        f" --base-url {base_url.rstrip('/')} [--view review]",
        flush=True,
    )


def _users_add(settings: Settings, args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            print("pointcare: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    runtime = build_runtime(settings)
    try:
        with runtime.db.write() as session:
            user = add_user(
                session,
                username=args.name,
                role=args.role,
                password=password,
                display_name=args.display_name,
            )
            event = audit.AuditEvent(
                action=audit.AuditAction.USER_ADDED,
                actor=audit_commands.operator(),
                objects=(f"user:{user.id}",),
                details={"username": user.username, "role": user.role},
            )
            audit.record(session, event)
            print(f"added {user.username} ({user.role})")
    finally:
        runtime.close()
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    runtime = build_runtime(settings)
    try:
        with runtime.db.session() as session:
            user = find_user(session, args.user)
            if user is None or not user.active:
                print(f"pointcare: no active user named {args.user!r}", file=sys.stderr)
                return 1
            ttl = args.ttl or settings.token_ttl_seconds
            if not 0 < ttl <= settings.token_max_ttl_seconds:
                print(
                    f"pointcare: --ttl must be between 1 and {settings.token_max_ttl_seconds} "
                    "seconds (POINTCARE_TOKEN_MAX_TTL_SECONDS)",
                    file=sys.stderr,
                )
                return 2
            token = mint_api_token(
                secret_key=settings.secret_key,
                user_id=user.id,
                ttl_seconds=ttl,
                generation=user.token_generation,
            )
        with runtime.db.write() as session:
            event = audit.AuditEvent(
                action=audit.AuditAction.TOKEN_ISSUED,
                actor=audit_commands.operator(),
                objects=(f"user:{user.id}",),
                details={"for_user": user.username, "ttl_seconds": ttl},
            )
            audit.record(session, event)
        print(token)
    finally:
        runtime.close()
    return 0


def _launch_url(settings: Settings, args: argparse.Namespace) -> int:
    from pointcare.launch.links import launch_url

    runtime = build_runtime(settings)
    try:
        with runtime.db.session() as session:
            print(
                launch_url(
                    session,
                    settings,
                    user=args.user,
                    patient_mrn=args.patient,
                    view=args.view,
                    issuer_id=args.issuer,
                    role=args.role,
                    base_url=args.base_url,
                )
            )
    finally:
        runtime.close()
    return 0


def _patients_import(settings: Settings, args: argparse.Namespace) -> int:
    from pointcare.identity.importer import ImportFailed, import_patients

    runtime = build_runtime(settings)
    try:
        with runtime.db.write() as session:
            report = import_patients(
                session, args.file, default_issuer=settings.issuer_of_patient_id
            )
            event = audit.AuditEvent(
                action=audit.AuditAction.PATIENTS_IMPORTED,
                actor=audit_commands.operator(),
                details={
                    "file": args.file.name,
                    "created": report.created,
                    "updated": report.updated,
                },
            )
            audit.record(session, event)
    except ImportFailed as exc:
        print(f"pointcare: {args.file}: nothing imported.", file=sys.stderr)
        for error in exc.rows:
            print(f"  {error}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(f"imported {report.created} new and {report.updated} updated patients")
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    build_runtime(settings).close()
    print("database is up to date")
    return 0


METRICS_PORT_HELP = "serve this process's counters on http://127.0.0.1:PORT/metrics (Prometheus)"
ADT_DEFAULT_PORT = 2575
"""The port IANA registered for HL7 over MLLP."""


def _tcp_port(raw: str) -> int:
    port = int(raw)
    if not 0 < port <= 65535:
        raise argparse.ArgumentTypeError(f"{raw} is not a TCP port (1-65535)")
    return port


def _adt_listen(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from pointcare.identity.adt_feed import adt_server
    from pointcare.identity.mllp import serve_until_signalled

    runtime = build_runtime(settings)
    server = adt_server(
        runtime.db,
        settings,
        host=args.host or settings.adt_host,
        port=args.port or settings.adt_port or ADT_DEFAULT_PORT,
    )

    def ready() -> None:
        host, port = server.address
        print(f"Pointcare ADT listener (HL7 v2 over MLLP) on {host}:{port}", flush=True)

    if args.metrics_port:
        serve_process_metrics(args.metrics_port)

    try:
        asyncio.run(serve_until_signalled(server, ready=ready))
    finally:
        runtime.close()
    return 0
