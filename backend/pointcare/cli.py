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
from pathlib import Path

from pointcare.auth.accounts import add_user, find_user
from pointcare.auth.tokens import mint_api_token
from pointcare.errors import PointcareError
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
    except PointcareError as exc:
        print(f"pointcare: {exc.detail}", file=sys.stderr)
        for key, message in exc.errors.items():
            print(f"  {key}: {message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pointcare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
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
    adt.set_defaults(handler=_adt_listen)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=_migrate)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from pointcare.app import create_app

    if args.adt_port is not None:
        settings = dataclasses.replace(settings, adt_port=args.adt_port)
    runtime = build_runtime(settings)
    if args.demo:
        _seed_demo(runtime)
    app = create_app(settings, runtime=runtime, forward_to_pacs=not args.no_forwarder)
    print(f"Pointcare for {settings.institution_name}: http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
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
    print(f"Pointcare worker {forwarder.owner}: delivering to the PACS", flush=True)
    try:
        forwarder.run(stop)
    finally:
        runtime.close()
    return 0


def _seed_demo(runtime: Runtime) -> None:
    from pointcare.identity.demo import seed_demo

    with runtime.db.write() as session:
        count = seed_demo(session)
        for username, role, display, password in DEMO_USERS:
            if find_user(session, username) is None:
                add_user(
                    session, username=username, role=role, password=password, display_name=display
                )
    print(f"Demo data: {count} patients. Demo sign-ins (user / password / role):", flush=True)
    for username, role, _display, password in DEMO_USERS:
        print(f"  {username:<8} {password:<18} {role}", flush=True)


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
            if ttl <= 0:
                print("pointcare: --ttl must be positive", file=sys.stderr)
                return 2
            print(mint_api_token(secret_key=settings.secret_key, user_id=user.id, ttl_seconds=ttl))
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

    try:
        asyncio.run(serve_until_signalled(server, ready=ready))
    finally:
        runtime.close()
    return 0
