"""DicomwebArchive against a scripted fake PACS: what it sends, and how it reads bad answers.

A fake, not Orthanc, because these are the answers Orthanc does not give on demand: 500s, an
answer that never comes, a refused connection, a TLS certificate nobody vouches for.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import pytest

from pointcare.archive.dicomweb import DicomwebArchive, DicomwebConnection
from pointcare.archive.protocol import (
    ArchiveUnavailable,
    InstanceRef,
    Outcome,
    OutgoingInstance,
    PatientKey,
)
from pointcare.errors import NotFound
from tests.support.server import free_port
from tests.support.tools import require_tool

UID = "1.2.826.0.1.3680043.8.498.10"
REF = InstanceRef("1.2.3", "1.2.3.4", UID)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakePacs:
    """Answers every request with ``answer(seen)``; ``delay`` seconds late when set."""

    answer: Callable[[Seen], Answer] = lambda seen: (200, {}, b"")
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}/dicom-web"

    def __enter__(self) -> FakePacs:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._reply()

            def do_POST(self) -> None:
                self._reply()

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                fake.seen.append(seen)
                time.sleep(fake.delay)
                status, headers, body = fake.answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def archive_for(url: str, **options: object) -> DicomwebArchive:
    return DicomwebArchive(DicomwebConnection(url=url, timeout_seconds=1.0, **options))  # type: ignore[arg-type]


def stow_ok(seen: Seen) -> Answer:
    body = {"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": [UID]}}]}}
    return 200, {"Content-Type": "application/dicom+json"}, json.dumps(body).encode()


def test_a_store_is_a_stow_rs_post_with_basic_auth() -> None:
    with FakePacs(stow_ok) as pacs:
        archive = archive_for(pacs.url, username="pointcare", password="secret")
        report = archive.store([OutgoingInstance(UID, b"DICM")])
        archive.close()
    assert report.results[UID].outcome is Outcome.STORED
    [seen] = pacs.seen
    assert (seen.method, seen.path) == ("POST", "/dicom-web/studies")
    assert seen.headers["content-type"].startswith(
        'multipart/related; type="application/dicom"; boundary='
    )
    assert seen.headers["accept"] == "application/dicom+json"
    assert seen.headers["authorization"] == "Basic cG9pbnRjYXJlOnNlY3JldA=="
    assert b"Content-Type: application/dicom\r\n\r\nDICM\r\n" in seen.body


def test_a_bearer_token_is_sent_instead_of_basic_auth() -> None:
    with FakePacs(stow_ok) as pacs:
        archive_for(pacs.url, token="t0ken").store([OutgoingInstance(UID, b"DICM")])
    assert pacs.seen[0].headers["authorization"] == "Bearer t0ken"


def test_a_500_leaves_the_instance_unconfirmed() -> None:
    with FakePacs(lambda seen: (500, {"Content-Type": "text/html"}, b"<h1>oops</h1>")) as pacs:
        report = archive_for(pacs.url).store([OutgoingInstance(UID, b"DICM")])
    assert report.results[UID].outcome is Outcome.UNCONFIRMED
    assert report.results[UID].reason == "HTTP 500 from the PACS"


def test_a_pacs_that_does_not_answer_in_time_leaves_the_instance_unconfirmed() -> None:
    with FakePacs(stow_ok, delay=3.0) as pacs:
        started = time.monotonic()
        report = archive_for(pacs.url).store([OutgoingInstance(UID, b"DICM")])
        waited = time.monotonic() - started
    assert report.results[UID].outcome is Outcome.UNCONFIRMED
    assert report.results[UID].reason == "no answer from the PACS in time (ReadTimeout)"
    assert waited < 2.5  # the timeout (1 s), not the PACS, decided


def test_a_pacs_that_is_down_leaves_the_instance_unconfirmed() -> None:
    archive = archive_for(f"http://127.0.0.1:{free_port()}/dicom-web")
    report = archive.store([OutgoingInstance(UID, b"DICM")])
    assert report.results[UID].outcome is Outcome.UNCONFIRMED
    assert report.results[UID].reason.startswith("could not reach the PACS (ConnectError")
    with pytest.raises(ArchiveUnavailable, match="could not be reached"):
        archive.retrieve_instance(REF)


def test_retrieve_asks_for_the_stored_transfer_syntax_and_reads_the_first_part() -> None:
    def wado(seen: Seen) -> Answer:
        boundary = "b0undary"
        body = (
            f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            + b"DICM\r\n--object bytes"
            + f"\r\n--{boundary}--\r\n".encode()
        )
        content_type = f'multipart/related; type="application/dicom"; boundary="{boundary}"'
        return 200, {"Content-Type": content_type}, body

    with FakePacs(wado) as pacs:
        data = archive_for(pacs.url).retrieve_instance(REF)
    assert data == b"DICM\r\n--object bytes"
    assert pacs.seen[0].path == f"/dicom-web/studies/1.2.3/series/1.2.3.4/instances/{UID}"
    assert pacs.seen[0].headers["accept"] == (
        'multipart/related; type="application/dicom"; transfer-syntax=*'
    )


def test_thumbnails_are_rendered_with_a_literal_comma_in_the_viewport() -> None:
    with FakePacs(lambda seen: (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8jpeg")) as pacs:
        assert archive_for(pacs.url).retrieve_thumbnail(REF) == b"\xff\xd8jpeg"
    assert pacs.seen[0].path.endswith(f"/instances/{UID}/rendered?viewport=320,320")


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFound), (503, ArchiveUnavailable), (401, ArchiveUnavailable)]
)
def test_retrieval_errors_become_application_errors(status: int, error: type[Exception]) -> None:
    with FakePacs(lambda seen: (status, {}, b"")) as pacs, pytest.raises(error):
        archive_for(pacs.url).retrieve_rendered(REF)


def test_studies_of_a_patient_newest_first_without_other_issuers() -> None:
    def study(uid: str, day: str, issuer: str | None) -> dict[str, object]:
        found: dict[str, object] = {
            "0020000D": {"vr": "UI", "Value": [uid]},
            "00080020": {"vr": "DA", "Value": [day]},
            "00080061": {"vr": "CS", "Value": ["CT", "SR"]},
            "00081030": {"vr": "LO", "Value": ["Chest"]},
            "00201208": {"vr": "IS", "Value": [12]},
        }
        if issuer:
            found["00100021"] = {"vr": "LO", "Value": [issuer]}
        return found

    answer = [study("1.1", "20240101", "PCDEMO"), study("1.2", "20250101", None)]
    answer.append(study("1.3", "20260101", "OTHER"))
    body = json.dumps(answer).encode()
    with FakePacs(lambda seen: (200, {"Content-Type": "application/dicom+json"}, body)) as pacs:
        studies = archive_for(pacs.url).search_studies(PatientKey("PC100001", "PCDEMO"))
    assert [s.study_instance_uid for s in studies] == ["1.2", "1.1"]
    assert studies[0].modalities == ("CT", "SR")
    assert studies[0].number_of_instances == 12
    assert pacs.seen[0].path.startswith("/dicom-web/studies?PatientID=PC100001&includefield=")


def test_a_wildcard_is_not_a_patient_id() -> None:
    with pytest.raises(ValueError, match="Patient ID"):
        archive_for("http://127.0.0.1:9/dicom-web").search_studies(PatientKey("PC*"))


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key), made with the openssl tool."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject, *files],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def tls_pacs(certificate: tuple[Path, Path]) -> Iterator[FakePacs]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with FakePacs(stow_ok, tls=context) as pacs:
        yield pacs


def test_tls_is_verified_by_default(tls_pacs: FakePacs) -> None:
    report = archive_for(tls_pacs.url).store([OutgoingInstance(UID, b"DICM")])
    assert report.results[UID].outcome is Outcome.UNCONFIRMED
    assert "ConnectError" in report.results[UID].reason


def test_a_ca_bundle_makes_the_pacs_certificate_trusted(
    tls_pacs: FakePacs, certificate: tuple[Path, Path]
) -> None:
    archive = archive_for(tls_pacs.url, ca_bundle=str(certificate[0]))
    assert archive.store([OutgoingInstance(UID, b"DICM")]).stored() == [UID]


def test_verification_can_be_turned_off_explicitly(tls_pacs: FakePacs) -> None:
    archive = archive_for(tls_pacs.url, verify_tls=False)
    assert archive.store([OutgoingInstance(UID, b"DICM")]).stored() == [UID]
