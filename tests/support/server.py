"""A real Pointcare server in a subprocess, for integration and browser tests.

    with LiveServer(demo=True) as server:
        page.goto(server.url + "/")

The server is ``python -m pointcare serve`` started with the test's own interpreter, on a free
loopback port, with ``POINTCARE_DATA_DIR`` pointing at a private folder. Its stdout and stderr
go to files (never pipes, which would block a chatty server); when start-up fails, the server dies
during a test, or the ``with`` block raises, its stderr is shown in the failure.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

HEALTH_PATH = "/healthz"
STDERR_TAIL_CHARS = 8_000
REPO_ROOT = Path(__file__).resolve().parents[2]


def live_env(**extra: str) -> dict[str, str]:
    """The environment of a server run from this source tree, with the local htmx (no network)
    and ``extra`` POINTCARE_* settings."""
    backend = str(REPO_ROOT / "backend")
    path = os.pathsep.join(p for p in (backend, str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {"POINTCARE_HTMX_SRC": "local", "PYTHONPATH": path, **extra}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServerError(RuntimeError):
    """The server did not start, died while in use, or would not stop."""


class LiveServer:
    """``pointcare serve`` in a subprocess; a context manager that starts and stops it.

    ``data_dir``: the server's ``POINTCARE_DATA_DIR``; default: a fresh temporary folder,
    removed again on ``stop()``. ``env``: extra environment variables (they win over the
    test process's own). ``demo``: pass ``--demo`` (demo patients and users, logins printed
    on stdout, see ``stdout``).
    """

    def __init__(
        self,
        *,
        demo: bool = False,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port()
        self.demo = demo
        self._owns_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else self._make_temp_dir("data")
        self._extra_env = dict(env or {})
        self._extra_args = list(extra_args)
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._log_dir = self._make_temp_dir("logs")
        self._process: subprocess.Popen[bytes] | None = None
        self._killed = False

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:43117``."""
        return f"http://{self.host}:{self.port}"

    @property
    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "pointcare", "serve", "--host", self.host]
        cmd += ["--port", str(self.port)]
        if self.demo:
            cmd.append("--demo")
        return cmd + self._extra_args

    @property
    def stdout(self) -> str:
        """Everything the server printed on stdout so far (e.g. the demo logins)."""
        return self._read_log("stdout")

    @property
    def stderr(self) -> str:
        return self._read_log("stderr")

    @property
    def pid(self) -> int:
        """The server process's id (for its memory and file checks)."""
        if self._process is None:
            raise LiveServerError("this LiveServer was not started")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LiveServer:
        """Start the server and wait until ``GET /healthz`` answers 200."""
        if self._process is not None:
            raise LiveServerError("this LiveServer was already started")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "POINTCARE_DATA_DIR": str(self.data_dir),
            "PYTHONUNBUFFERED": "1",
            **self._extra_env,
        }
        with (
            open(self._log_dir / "stdout", "wb") as out,
            open(self._log_dir / "stderr", "wb") as err,
        ):
            # A session of its own: a Ctrl-C in the terminal reaches pytest, which then stops
            # the server itself, and stop() can signal every process the server started.
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self._terminate()
            self._remove_temp_dirs()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); fail if it had died on its own."""
        process = self._process
        if process is None:
            return
        died_early = process.poll() is not None and not self._killed
        self._terminate()
        try:
            if died_early:
                raise LiveServerError(
                    f"the server exited by itself with code {process.returncode} "
                    f"while in use{self._stderr_report()}"
                )
        finally:
            self._remove_temp_dirs()

    def kill(self) -> None:
        """SIGKILL the server and everything it started, as a power cut would: no shutdown
        code runs. The data dir stays; ``start`` may not be called again (make another
        ``LiveServer`` on the same port and data dir)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._killed = True
        self._signal_group(signal.SIGKILL)
        self._process.wait(timeout=self._stop_timeout)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self._process is not None:
            # Printed, so pytest shows it under "Captured stderr" beside the failure.
            print(f"LiveServer {self.url}{self._stderr_report()}", file=sys.stderr)
            with contextlib.suppress(LiveServerError):  # the original failure is the one to report
                self.stop()
            return
        self.stop()

    # -- internals -------------------------------------------------------------------------

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise LiveServerError(
                    f"the server exited with code {code} during start-up "
                    f"({' '.join(self.command)}){self._stderr_report()}"
                )
            try:
                status = self._get_status(HEALTH_PATH)
            except OSError as error:
                last_error = str(error)
            else:
                if status == 200:
                    return
                last_error = f"GET {HEALTH_PATH} answered {status}"
            time.sleep(0.05)
        raise LiveServerError(
            f"the server did not answer GET {HEALTH_PATH} with 200 within "
            f"{self._startup_timeout:g} s ({last_error}){self._stderr_report()}"
        )

    def _get_status(self, path: str) -> int:
        # http.client, not urllib: urllib would send loopback requests to an http_proxy.
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        finally:
            connection.close()

    def _terminate(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            process.wait(timeout=self._stop_timeout)
        except subprocess.TimeoutExpired:
            print(
                f"LiveServer {self.url}: no exit {self._stop_timeout:g} s after SIGTERM, SIGKILL",
                file=sys.stderr,
            )
            self._signal_group(signal.SIGKILL)
            process.wait(timeout=self._stop_timeout)

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, sig)

    def _remove_temp_dirs(self) -> None:
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def _read_log(self, name: str) -> str:
        try:
            return (self._log_dir / name).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _stderr_report(self) -> str:
        text = self.stderr
        if len(text) > STDERR_TAIL_CHARS:
            text = "[...]\n" + text[-STDERR_TAIL_CHARS:]
        return f"\n--- server stderr ---\n{text.rstrip() or '(empty)'}\n--- end ---"

    @staticmethod
    def _make_temp_dir(kind: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"pointcare-live-{kind}-"))
