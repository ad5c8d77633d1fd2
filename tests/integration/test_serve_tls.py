"""``pointcare serve --tls`` as a real process: HTTPS with its own certificate, kept and reused,
Secure cookies, the URL and its QR code printed; and the hospital's own certificate."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pointcare.cli import DEMO_USERS
from tests.support.server import free_port
from tests.support.terminal_qr import read_terminal_qr
from tests.support.tools import REPO_ROOT

NURSE = next(
    (user, password) for user, role, _name, password in DEMO_USERS if role == "photographer"
)


@dataclass
class Served:
    url: str
    stdout: Path
    stderr: Path

    @property
    def printed(self) -> str:
        return self.stdout.read_text(encoding="utf-8")


@contextlib.contextmanager
def serve(data_dir: Path, *args: str, ca: Path | None = None) -> Iterator[Served]:
    """``pointcare serve --host 127.0.0.1 ARGS`` until the block ends; ready when HTTPS answers."""
    port = free_port()
    logs = data_dir.parent / f"logs-{port}"
    logs.mkdir()
    served = Served(f"https://127.0.0.1:{port}", logs / "stdout", logs / "stderr")
    backend = str(REPO_ROOT / "backend")
    env = {
        **os.environ,
        "POINTCARE_DATA_DIR": str(data_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, (backend, os.environ.get("PYTHONPATH")))),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "pointcare", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), *args]
    with open(served.stdout, "wb") as out, open(served.stderr, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
    try:
        _wait_for_https(served, process, ca or data_dir / "tls" / "ca.pem")
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def _wait_for_https(served: Served, process: subprocess.Popen[bytes], ca: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{served.stderr.read_text()}")
        if ca.exists():
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(served.url + "/healthz", verify=trusting(ca), timeout=2).is_success:
                    return
        time.sleep(0.1)
    pytest.fail(f"no HTTPS answer from {served.url}:\n{served.stderr.read_text()}")


def trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def sign_in(client: httpx.Client) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'<meta name="csrf-token" content="([^"]*)"', page.text)
    assert token is not None
    user, password = NURSE
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token.group(1)},
        headers={"X-CSRF-Token": token.group(1)},
    )


def test_serve_tls_makes_a_certificate_serves_https_and_reuses_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    ca = data_dir / "tls" / "ca.pem"
    with serve(data_dir, "--tls", "--demo") as served:
        printed = served.printed
        assert f"Pointcare for Pointcare Demo Hospital: {served.url}/" in printed
        assert read_terminal_qr(printed) == f"{served.url}/"
        assert str(ca) in printed  # where the certificate for phones is
        assert "new server certificate" in printed
        with httpx.Client(base_url=served.url, verify=trusting(ca)) as client:
            signed_in = sign_in(client)
            assert signed_in.status_code == 303, signed_in.text
            session_cookie = [
                value for value in signed_in.headers.get_list("set-cookie") if "HttpOnly" in value
            ]
            assert session_cookie and all("Secure" in value for value in session_cookie)
            assert client.get("/").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # the same port speaks TLS only
            httpx.get(served.url.replace("https:", "http:") + "/healthz", timeout=5)
        with pytest.raises(httpx.ConnectError):  # untrusted without the CA
            httpx.get(served.url + "/healthz", timeout=5)
    cert = (data_dir / "tls" / "cert.pem").read_bytes()
    with serve(data_dir, "--tls") as again:
        assert "new server certificate" not in again.printed
        assert (data_dir / "tls" / "cert.pem").read_bytes() == cert


def test_serve_with_the_hospitals_certificate(tmp_path: Path) -> None:
    from pointcare.serving.lan import server_subject
    from pointcare.serving.tls import local_ca_files

    issued = local_ca_files(tmp_path / "hospital", server_subject("127.0.0.1", []))
    assert issued.ca is not None
    data_dir = tmp_path / "var"
    args = ("--tls-cert", str(issued.cert), "--tls-key", str(issued.key))
    with serve(data_dir, *args, ca=issued.ca) as served:
        assert read_terminal_qr(served.printed) == f"{served.url}/"
        assert "Pointcare's own CA" not in served.printed
    assert not (data_dir / "tls").exists()  # nothing made when the hospital brings its own


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", "/nonexistent/cert.pem"], "--tls-cert and --tls-key go together"),
        (
            ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
            "does not exist",
        ),
    ],
)
def test_serve_refuses_a_bad_certificate_choice(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pointcare", "serve", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "POINTCARE_DATA_DIR": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr
