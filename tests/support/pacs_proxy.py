"""A small HTTP proxy before Orthanc that misbehaves on demand, for the delivery fault tests.

    with PacsProxy(orthanc.url) as proxy:       # proxy.url + "/dicom-web" reaches Orthanc
        proxy.mode = Mode.ERROR                 # answer 500 without asking Orthanc
        proxy.mode = Mode.HANG                  # say nothing for hang_seconds, then hang up
        proxy.mode = Mode.LOSE_ANSWER           # Orthanc stores it; the answer is dropped
        proxy.mode = Mode.CONFLICT              # 409, each instance failed 0111 (duplicate),
                                                #   as dcm4chee answers an instance it holds
        proxy.mode = Mode.REFUSE                # 400 naming no instance, Orthanc not asked
        proxy.mode = Mode.SLOW                  # Orthanc's answer trickled over slow_seconds
        proxy.plan = [Mode.ERROR, Mode.HANG]    # for the next two STOW-RS requests only
        proxy.hold_stow(2)                      # pass STOW-RS request no. 2 to Orthanc, then
        proxy.held.wait(10)                     #   keep Orthanc's answer until release()

It records the SOP Instance UIDs of every STOW-RS request it saw (read from the DICOM parts
with pydicom, independently of Pointcare's code), so a test can tell how often each photo was
sent, and which of them reached Orthanc.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from types import TracebackType
from urllib.parse import urlsplit

from pydicom import dcmread

DICOM_JSON = "application/dicom+json"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Mode(Enum):
    FORWARD = "forward"
    ERROR = "error"
    HANG = "hang"
    LOSE_ANSWER = "lose-answer"
    CONFLICT = "conflict"
    REFUSE = "refuse"
    SLOW = "slow"


DUPLICATE_SOP_INSTANCE = 0x0111
UNREADABLE = "(unreadable)"
"""The SOP Instance UID recorded for a part that is not a readable DICOM object."""
SLOW_PIECES = 10


def stow_sop_uids(content_type: str, body: bytes) -> list[str]:
    """SOP Instance UIDs of the DICOM parts of a multipart/related STOW-RS body."""
    message = BytesParser(policy=compat32).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    uids = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        try:
            dataset = dcmread(BytesIO(payload), stop_before_pixels=True)
        except Exception:  # a part that is no DICOM object: the PACS will say so
            dataset = None
        uids.append(str(getattr(dataset, "SOPInstanceUID", UNREADABLE)))
    return uids


class PacsProxy:
    def __init__(
        self, upstream: str, *, hang_seconds: float = 5.0, slow_seconds: float = 5.0
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.mode = Mode.FORWARD
        self.plan: list[Mode] = []
        """Modes for the next STOW-RS requests, one each, before ``mode`` applies again."""
        self.hang_seconds = hang_seconds
        self.slow_seconds = slow_seconds
        """How long ``Mode.SLOW`` takes to give Orthanc's answer back, in pieces."""
        self.held = threading.Event()
        """Set when the held STOW-RS request has been stored by Orthanc and its answer is kept."""
        self._release = threading.Event()
        self._hold_number: int | None = None
        self._lock = threading.Lock()
        self.stow_requests: list[list[str]] = []
        """SOP Instance UIDs of each STOW-RS request, in arrival order (any mode)."""
        self.forwarded_stow: list[list[str]] = []
        """Those of the STOW-RS requests that reached Orthanc."""
        self.answers: list[int] = []
        """Status of each answer given to Pointcare (0: none, the connection was dropped)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    def hold_stow(self, number: int) -> None:
        """Keep Orthanc's answer to the ``number``-th STOW-RS request (from 1) until release()."""
        self._hold_number = number
        self.held.clear()
        self._release.clear()

    def release(self) -> None:
        self._hold_number = None
        self._release.set()

    def sent_counts(self) -> dict[str, int]:
        """How many STOW-RS requests carried each SOP Instance UID."""
        counts: dict[str, int] = {}
        with self._lock:
            for request in self.stow_requests:
                for uid in request:
                    counts[uid] = counts.get(uid, 0) + 1
        return counts

    def __enter__(self) -> PacsProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    # -- the handler -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: pytest shows failures, not every request

            def do_GET(self) -> None:
                proxy._handle(self)

            def do_POST(self) -> None:
                proxy._handle(self)

        return Handler

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        is_stow = request.command == "POST" and request.path.rstrip("/").endswith("/studies")
        stow_number = 0
        if is_stow:
            uids = stow_sop_uids(content_type, body)
            with self._lock:
                self.stow_requests.append(uids)
                stow_number = len(self.stow_requests)
        with self._lock:
            mode = self.plan.pop(0) if is_stow and self.plan else self.mode
        if mode is Mode.ERROR:
            self._answer(request, 500, {"Content-Type": "text/plain"}, b"PACS is unwell")
            return
        if mode is Mode.HANG:
            time.sleep(self.hang_seconds)
            self.answers.append(0)
            request.close_connection = True
            return
        if is_stow and mode is Mode.CONFLICT:
            self._answer(request, 409, {"Content-Type": DICOM_JSON}, _duplicates(uids))
            return
        if is_stow and mode is Mode.REFUSE:
            self._answer(request, 400, {"Content-Type": "text/plain"}, b"Bad request")
            return
        status, headers, answer = self._forward(request, body)
        if is_stow:
            with self._lock:
                self.forwarded_stow.append(uids)
            if stow_number == self._hold_number:
                self.held.set()
                self._release.wait(60)
            if mode is Mode.LOSE_ANSWER:
                self.answers.append(0)
                request.close_connection = True
                return
        slow = self.slow_seconds if is_stow and mode is Mode.SLOW else 0.0
        self._answer(request, status, headers, answer, slow_seconds=slow)

    def _forward(
        self, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
            return response.status, kept, answer
        finally:
            connection.close()

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        slow_seconds: float = 0.0,
    ) -> None:
        with contextlib.suppress(OSError):  # the client may be gone (killed, timed out)
            request.send_response(status)
            for name, value in headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            if slow_seconds:
                step = -(-len(body) // SLOW_PIECES)
                for start in range(0, len(body), step):
                    time.sleep(slow_seconds / SLOW_PIECES)
                    request.wfile.write(body[start : start + step])
                    request.wfile.flush()
            else:
                request.wfile.write(body)
            self.answers.append(status)


def _duplicates(uids: list[str]) -> bytes:
    """A Store Instances Response naming each instance as failed with 0111 (duplicate)."""
    failed = [
        {
            "00081155": {"vr": "UI", "Value": [uid]},
            "00081197": {"vr": "US", "Value": [DUPLICATE_SOP_INSTANCE]},
        }
        for uid in uids
    ]
    return json.dumps({"00081198": {"vr": "SQ", "Value": failed}}).encode()
