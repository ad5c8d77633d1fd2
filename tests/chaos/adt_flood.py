"""The ADT flood: ``pointcare adt-listen`` with the 1,024 file descriptors of a default unit,
1,100 connections that never send anything, and 2,000 messages over 200 connections: 200
patients, ten updates each, in shuffled order (so most arrive out of order)."""

from __future__ import annotations

import contextlib
import random
import resource
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from pointcare.db.engine import Database
from pointcare.db.models import Patient
from pointcare.identity.mllp import END_BLOCK, START_BLOCK
from tests.chaos.experiments import Row, postgres
from tests.support.adt_listener import adt_listen
from tests.support.hl7_messages import adt, pid

PATIENTS = 200
VERSIONS = 10
IDLE = 1100
SENDERS = 200
FILE_LIMIT = 1024
PATIENCE = 300.0


def adt_flood() -> Row:
    folder = Path(tempfile.mkdtemp(prefix="pointcare-chaos-adt-"))
    quick_idle = {"POINTCARE_ADT_IDLE_TIMEOUT_SECONDS": "5"}
    with (
        postgres() as (_cluster, url),
        adt_listen(url, folder, env=quick_idle, file_limit=FILE_LIMIT) as (address, log),
    ):
        with idle_connections(address, IDLE):
            messages = [(n, v) for n in range(PATIENTS) for v in range(VERSIONS)]
            random.shuffle(messages)
            lanes = [messages[i::SENDERS] for i in range(SENDERS)]
            with ThreadPoolExecutor(SENDERS) as pool:
                sent_lanes = pool.map(lambda lane: send_all(address, lane), lanes)
                answers = [code for lane in sent_lanes for code in lane]
        newest = current_names(url)
        duplicates = duplicate_patients(url)
        text = log.read_text(errors="replace")
    shown = sum(name == f"Family{VERSIONS - 1}" for name in newest.values())
    refused_lines = text.count("the most allowed")
    acks = dict(sorted({code: answers.count(code) for code in set(answers)}.items()))
    return Row(
        experiment=f"ADT flood ({IDLE} idle + {SENDERS} busy connections)",
        sent=len(messages),
        acknowledged=answers.count("AA"),
        readable=shown,
        delivered=None,
        duplicates=duplicates,
        notes=(
            f"readable: patients whose record shows their newest message ({shown} of "
            f"{PATIENTS}); ACKs {acks}; "
            f"'connection limit' log lines: {refused_lines}; "
            f"'Too many open files': {text.count('Too many open files')}"
        ),
    )


@contextlib.contextmanager
def idle_connections(address: tuple[str, int], count: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    opened = []
    try:
        for _ in range(count):
            with contextlib.suppress(OSError):
                opened.append(socket.create_connection(address, timeout=10))
        yield
    finally:
        for connection in opened:
            connection.close()


def message(patient: int, version: int) -> bytes:
    minute = f"{version:02d}"
    return adt(
        "A08" if version else "A01",
        pid=pid(identifiers=f"F{patient:05d}^^^HOSP^MR", name=f"Family{version}^Given"),
        control_id=f"P{patient}V{version}",
        recorded_at=f"202605041000{minute}+0000",
    ).encode()


def send_all(address: tuple[str, int], lane: list[tuple[int, int]]) -> list[str]:
    """Send a lane's messages over one connection, as an interface engine does: on a broken
    connection, connect again and send the same message again, for up to ``PATIENCE`` s."""
    codes: list[str] = []
    connection: socket.socket | None = None
    for patient, version in lane:
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                if connection is None:
                    connection = socket.create_connection(address, timeout=30)
                connection.sendall(START_BLOCK + message(patient, version) + END_BLOCK)
                codes.append(_ack_code(_read_block(connection)))
                break
            except OSError:
                if connection is not None:
                    connection.close()
                connection = None
                if time.monotonic() > deadline:
                    codes.append("none")
                    break
                time.sleep(random.uniform(0.2, 1.0))
    if connection is not None:
        connection.close()
    return codes


def _read_block(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(END_BLOCK):
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed before the ACK")
        data += chunk
    return data


def _ack_code(block: bytes) -> str:
    for segment in block.strip(START_BLOCK + END_BLOCK).split(b"\r"):
        if segment.startswith(b"MSA|"):
            return segment.split(b"|")[1].decode()
    return "?"


def current_names(database_url: str) -> dict[str, str]:
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(Patient.mrn, Patient.family_name).where(Patient.issuer == "HOSP")
            )
            return {mrn: family for mrn, family in rows}
    finally:
        database.dispose()


def duplicate_patients(database_url: str) -> int:
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.scalar(
                select(func.count()).select_from(Patient).where(Patient.issuer == "HOSP")
            )
            distinct = session.scalar(
                select(func.count(func.distinct(Patient.mrn))).where(Patient.issuer == "HOSP")
            )
        return (rows or 0) - (distinct or 0)
    finally:
        database.dispose()
