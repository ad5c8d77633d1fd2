"""The ADT feed end to end: a real MLLP client (the ``hl7`` package's) against the listener.

The listener runs on a free loopback port in a thread of its own, on the test's database; the
client is ``hl7.client.MLLPClient`` (and its ``mllp_send`` command), never our own framing code,
except where a test needs bytes no well-behaved client sends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import hl7
import pytest
from hl7.client import MLLPClient
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.db.engine import Database
from pointcare.db.models import Instance, Patient
from pointcare.identity.adt_feed import adt_server
from pointcare.runtime import Runtime
from tests.integration.conftest import Upload
from tests.integration.identity.conftest import Address, Send, running
from tests.support.hl7_messages import ack_of, adt, code, mrg, pid, pv1, reason
from tests.support.server import LiveServer, free_port
from tests.unit.imaging.images import jpeg_bytes, scene


def patient(runtime: Runtime, mrn: str, issuer: str = "HOSP") -> Patient:
    with runtime.db.session() as session:
        return session.scalars(
            select(Patient).where(Patient.mrn == mrn, Patient.issuer == issuer)
        ).one()


# --- Create and update ------------------------------------------------------------------------


def test_an_admission_creates_the_patient_found_by_the_api(
    send: Send, client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]]
) -> None:
    ack = send(adt("A01", pid=pid(), pv1=pv1("V0042"), control_id="ADM1"))
    assert code(ack) == "AA"
    assert str(ack.segment("MSA")[2]) == "ADM1"
    found = client.get(
        "/api/v1/patients", params={"identifier": "X1"}, headers=bearer("clinician")
    ).json()
    assert found == [
        {
            "mrn": "X1",
            "issuer": "HOSP",
            "family_name": "Öberg",
            "given_name": "Åsa",
            "birth_date": "1957-03-14",
            "sex": "F",
            "visit_number": "V0042",
        }
    ]


def test_an_update_changes_the_demographics(send: Send, runtime: Runtime) -> None:
    assert code(send(adt("A01", pid=pid(), pv1=pv1("V1")))) == "AA"
    updated = pid(name="Öberg-Lind^Åsa", birth_date="19570315", sex="F")
    assert code(send(adt("A08", pid=updated, pv1=pv1("V2"), control_id="UPD1"))) == "AA"
    stored = patient(runtime, "X1")
    assert (stored.family_name, str(stored.birth_date), stored.visit_number) == (
        "Öberg-Lind",
        "1957-03-15",
        "V2",
    )


def test_person_add_and_update_keep_the_visit(send: Send, runtime: Runtime) -> None:
    assert code(send(adt("A28", pid=pid(identifiers="P1^^^HOSP^MR")))) == "AA"
    assert patient(runtime, "P1").visit_number is None
    assert code(send(adt("A04", pid=pid(identifiers="P1^^^HOSP^MR"), pv1=pv1("E7")))) == "AA"
    renamed = pid(identifiers="P1^^^HOSP^MR", name="Ångström^Zoë", sex="F")
    assert code(send(adt("A31", pid=renamed, pv1=pv1("IGNORED")))) == "AA"
    stored = patient(runtime, "P1")
    assert (stored.family_name, stored.given_name, stored.visit_number) == (
        "Ångström",
        "Zoë",
        "E7",
    )


def test_the_same_message_twice_is_harmless(send: Send, runtime: Runtime) -> None:
    message = adt("A01", pid=pid(), pv1=pv1("V1"))
    assert [code(send(message)), code(send(message))] == ["AA", "AA"]
    with runtime.db.session() as session:
        assert len(session.scalars(select(Patient).where(Patient.mrn == "X1")).all()) == 1


# --- Merge ------------------------------------------------------------------------------------


def test_a_merge_files_the_old_mrns_photos_under_the_survivor(
    send: Send,
    upload: Upload,
    runtime: Runtime,
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
) -> None:
    stored = upload(jpeg_bytes(scene()), patient_id="PC100001")
    assert stored.status_code == 201, stored.text
    photo = stored.json()
    survivor = pid(identifiers="PC900001^^^PCDEMO^MR", name="Öberg^Åsa", birth_date="19570314")

    ack = send(adt("A40", pid=survivor, more=[mrg("PC100001^^^PCDEMO^MR")], control_id="MRG1"))

    assert code(ack) == "AA", reason(ack)
    doctor = bearer("clinician")
    [found] = client.get(
        "/api/v1/patients", params={"identifier": "PC100001"}, headers=doctor
    ).json()
    assert found["mrn"] == "PC900001"
    studies = client.get("/dicomweb/studies", params={"PatientID": "PC900001"}, headers=doctor)
    assert studies.status_code == 200, studies.text
    assert [s["0020000D"]["Value"][0] for s in studies.json()] == [photo["study_instance_uid"]]
    assert studies.json()[0]["00100020"]["Value"] == ["PC900001"]
    old = client.get("/dicomweb/studies", params={"PatientID": "PC100001"}, headers=doctor)
    assert old.status_code in {200, 204}
    assert not old.content or old.json() == []
    # The archived object keeps the PatientID it was made with: archives are not rewritten.
    metadata = client.get(
        f"/dicomweb/studies/{photo['study_instance_uid']}/series/"
        f"{photo['series_instance_uid']}/instances/{photo['sop_instance_uid']}/metadata",
        headers=doctor,
    ).json()
    assert metadata[0]["00100020"]["Value"] == ["PC100001"]
    with runtime.db.session() as session:
        instance = session.scalars(select(Instance)).one()
        assert instance.patient.mrn == "PC900001"
    # Search lists the survivor only; the review page of the old MRN shows the survivor.
    by_name = client.get("/api/v1/patients", params={"name": "oberg asa"}, headers=doctor).json()
    assert [p["mrn"] for p in by_name] == ["PC900001"]
    # The same merge sent again is accepted and changes nothing.
    again = send(adt("A40", pid=survivor, more=[mrg("PC100001^^^PCDEMO^MR")], control_id="MRG2"))
    assert code(again) == "AA"


def test_a_merge_into_an_existing_patient(send: Send, runtime: Runtime) -> None:
    assert code(send(adt("A01", pid=pid(identifiers="OLD^^^HOSP^MR"), pv1=pv1("V1")))) == "AA"
    assert code(send(adt("A01", pid=pid(identifiers="NEW^^^HOSP^MR"), pv1=pv1("V2")))) == "AA"
    ack = send(adt("A40", pid=pid(identifiers="NEW^^^HOSP^MR"), more=[mrg("OLD^^^HOSP^MR")]))
    assert code(ack) == "AA", reason(ack)
    assert patient(runtime, "OLD").merged_into_id == patient(runtime, "NEW").id
    assert patient(runtime, "NEW").visit_number == "V2"


def test_a_merged_mrn_cannot_be_updated_any_more(send: Send) -> None:
    send(adt("A01", pid=pid(identifiers="OLD^^^HOSP^MR")))
    send(adt("A40", pid=pid(identifiers="NEW^^^HOSP^MR"), more=[mrg("OLD^^^HOSP^MR")]))
    late = send(adt("A08", pid=pid(identifiers="OLD^^^HOSP^MR"), control_id="LATE"))
    assert code(late) == "AE"
    assert "merged into MRN NEW" in reason(late)
    assert str(late.segment("MSA")[2]) == "LATE"


def test_a_merge_of_an_unknown_mrn_keeps_it_as_the_survivors_alias(
    send: Send, client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]]
) -> None:
    ack = send(adt("A40", pid=pid(identifiers="NEW^^^HOSP^MR"), more=[mrg("GONE^^^HOSP^MR")]))
    assert code(ack) == "AA", reason(ack)
    [found] = client.get(
        "/api/v1/patients",
        params={"identifier": "GONE", "issuer": "HOSP"},
        headers=bearer("clinician"),
    ).json()
    assert found["mrn"] == "NEW"


# --- Bad messages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected", "words"),
    [
        (b"garbage, not HL7 at all", "AE", "MSH"),
        (adt("A01", pid=None), "AE", "PID"),
        (adt("A01", pid=pid(birth_date="19801301")), "AE", "PID-7"),
        (adt("A03"), "AR", "A03"),
        (adt(message_type="ORU^R01^ORU_R01"), "AR", "ORU"),
    ],
)
def test_a_bad_message_is_refused_and_the_next_one_is_served(
    send: Send, runtime: Runtime, message: str | bytes, expected: str, words: str
) -> None:
    refused = send(message)
    assert code(refused) == expected
    assert words in reason(refused)
    assert str(refused.segment("ERR")[3]).split("^")[0].isdigit()
    assert code(send(adt("A01", pid=pid()))) == "AA"
    assert patient(runtime, "X1").family_name == "Öberg"


def test_an_oversize_message_is_refused_and_the_connection_goes_on(runtime: Runtime) -> None:
    small = replace(runtime.settings, adt_max_message_bytes=2000)
    with (
        running(adt_server(runtime.db, small, host="127.0.0.1", port=0)) as address,
        MLLPClient(*address) as client,
    ):
        client.socket.settimeout(30)
        notes = [f"NTE|{n}|L|{'x' * 200}" for n in range(40)]
        big = adt("A01", pid=pid(), more=notes, control_id="BIG1")
        assert len(big.encode()) > 8000
        refused = ack_of(client.send_message(big))
        assert code(refused) == "AR"
        assert "larger than 2000 bytes" in reason(refused)
        assert str(refused.segment("MSA")[2]) == "BIG1"
        assert code(ack_of(client.send_message(adt("A01", pid=pid())))) == "AA"


def test_a_sender_that_hangs_up_mid_message_does_not_stop_the_listener(
    listener: Address, send: Send
) -> None:
    with socket.create_connection(listener, timeout=10) as raw:
        raw.sendall(b"\x0b" + adt("A01").encode()[:40])
    with socket.create_connection(listener, timeout=10) as raw:
        raw.sendall(b"noise before any block\r\n")
    assert code(send(adt("A01", pid=pid()))) == "AA"


def test_many_senders_at_once(listener: Address, runtime: Runtime) -> None:
    def sender(number: int) -> list[str]:
        codes = []
        with MLLPClient(*listener) as client:
            client.socket.settimeout(60)
            for visit in range(4):
                message = adt(
                    "A01",
                    pid=pid(identifiers=f"C{number}^^^HOSP^MR"),
                    pv1=pv1(f"V{visit}"),
                    control_id=f"C{number}-{visit}",
                )
                codes.append(code(ack_of(client.send_message(message))))
        return codes

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(sender, range(6)))
    assert results == [["AA"] * 4] * 6
    assert [patient(runtime, f"C{n}").visit_number for n in range(6)] == ["V3"] * 6


def test_the_mllp_send_command(listener: Address, tmp_path: Path, runtime: Runtime) -> None:
    batch = tmp_path / "batch.hl7"
    messages = [
        adt("A28", pid=pid(identifiers="S1^^^HOSP^MR")),
        adt("A28", pid=pid(birth_date="not a date")),
        adt("A31", pid=pid(identifiers="S1^^^HOSP^MR", name="Sent^By^mllp_send")),
    ]
    batch.write_bytes(b"".join(b"\x0b" + m.encode() + b"\x1c\x0d" for m in messages))
    result = subprocess.run(
        [mllp_send(), "--file", str(batch), "--port", str(listener[1]), listener[0]],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # One answer per line (an ACK holds CRs, so split on LF only).
    acks = [ack_of(line) for line in result.stdout.split(b"\n") if line]
    assert [code(ack) for ack in acks] == ["AA", "AE", "AA"]
    assert patient(runtime, "S1").given_name == "By"


def mllp_send() -> str:
    path = Path(sys.executable).with_name("mllp_send")
    assert path.exists(), f"the hl7 package's mllp_send is not beside {sys.executable}"
    return str(path)


# --- In the processes that run it -------------------------------------------------------------


def wait_for_port(address: Address, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise AssertionError(f"nothing listens on {address}")


def send_once(address: Address, message: str) -> hl7.Message:
    with MLLPClient(*address) as client:
        client.socket.settimeout(30)
        return ack_of(client.send_message(message))


def stored_family_name(database_url: str, mrn: str) -> str:
    database = Database(database_url)
    try:
        with database.session() as session:
            return session.scalars(select(Patient.family_name).where(Patient.mrn == mrn)).one()
    finally:
        database.dispose()


def test_serve_with_an_adt_port_runs_the_listener(database_url: str) -> None:
    address = ("127.0.0.1", free_port())
    server = LiveServer(
        env={"POINTCARE_DATABASE_URL": database_url}, extra_args=["--adt-port", str(address[1])]
    )
    with server:
        wait_for_port(address)
        assert code(send_once(address, adt("A01", pid=pid(identifiers="W1^^^HOSP^MR")))) == "AA"
    assert stored_family_name(database_url, "W1") == "Öberg"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=2).close()


def test_the_adt_listen_command(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(tmp_path / "var"),
        "POINTCARE_DATABASE_URL": database_url,
    }
    out = tmp_path / "stdout"
    with open(out, "wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "pointcare", "adt-listen", "--port", str(port)],
            env=env,
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(("127.0.0.1", port))
        ack = send_once(("127.0.0.1", port), adt("A04", pid=pid(identifiers="L1^^^HOSP^MR")))
        assert code(ack) == "AA"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, out.read_text()
    assert f"on 127.0.0.1:{port}" in out.read_text()
    assert stored_family_name(database_url, "L1") == "Öberg"
