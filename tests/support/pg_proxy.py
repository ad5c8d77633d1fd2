"""A TCP proxy before PostgreSQL that cuts a connection at a transaction's COMMIT, on demand.

    with PostgresProxy(database_url) as proxy:     # proxy.url: the same database, through it
        proxy.cut_commit_of(b"INSERT INTO instances", reaches_server=True)

The next transaction (on any connection) that sends a statement containing the marker has its
COMMIT cut: with ``reaches_server`` the COMMIT is passed to PostgreSQL and the connection is
dropped before the answer comes back (the transaction is stored, the client cannot know it);
without it the connection is dropped instead of passing the COMMIT on (the transaction is
rolled back by the server). The client sees the same thing in both cases: a COMMIT unanswered.

It reads the frontend protocol only as far as it needs: psycopg sends a transaction's
COMMIT as a simple Query message, ``Q``, its length, ``COMMIT`` and a NUL.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from sqlalchemy.engine import make_url

COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
CHUNK = 65536


class PostgresProxy:
    def __init__(self, database_url: str) -> None:
        self._upstream = make_url(database_url)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self._reaches_server = True
        self.cuts = 0
        """How many COMMITs were cut so far."""
        self._closing = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        port = self._listener.getsockname()[1]
        return self._upstream.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)

    def cut_commit_of(self, marker: bytes, *, reaches_server: bool) -> None:
        """Cut the COMMIT of the next transaction that sends ``marker`` (once)."""
        with self._lock:
            self._marker = marker
            self._reaches_server = reaches_server

    def __enter__(self) -> PostgresProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(
                (self._upstream.host or "127.0.0.1", self._upstream.port or 5432)
            )
            _Connection(self, client, server).start()

    def _claim(self, sent: bytes) -> tuple[bool, bool]:
        """(whether this connection's transaction is the one to cut, whether the COMMIT then
        reaches the server), given what the client just sent."""
        with self._lock:
            if self._marker is not None and self._marker in sent:
                self._marker = None
                return True, self._reaches_server
        return False, True


class _Connection:
    def __init__(self, proxy: PostgresProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.doomed = False
        """This connection's transaction sent the marker: its COMMIT is to be cut."""
        self.reaches_server = True
        self.cut = threading.Event()
        self.answered = threading.Event()
        """PostgreSQL answered after the cut (the answer the client never gets)."""

    def start(self) -> None:
        threading.Thread(target=self._from_client, daemon=True).start()
        threading.Thread(target=self._from_server, daemon=True).start()

    def _from_client(self) -> None:
        try:
            while data := self.client.recv(CHUNK):
                if not self.doomed:
                    self.doomed, self.reaches_server = self.proxy._claim(data)
                if self.doomed and COMMIT in data:
                    self._cut(data)
                    return
                self.server.sendall(data)
        except OSError:
            pass
        finally:
            self._close(self.server)

    def _cut(self, data: bytes) -> None:
        self.cut.set()  # from now on nothing goes back to the client
        with self.proxy._lock:
            self.proxy.cuts += 1
        if self.reaches_server:
            self.server.sendall(data)
            # Let PostgreSQL carry out the COMMIT before it sees the connection close.
            self.answered.wait(5)
        self._close(self.client)
        self._close(self.server)

    def _from_server(self) -> None:
        try:
            while data := self.server.recv(CHUNK):
                if self.cut.is_set():
                    self.answered.set()
                    return
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            if not self.cut.is_set():
                self._close(self.client)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
