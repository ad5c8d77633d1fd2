"""An MLLP server: HL7 v2 messages over TCP (the Minimal Lower Layer Protocol), with asyncio.

Each message travels in a block ``<VT> message <FS><CR>`` (0x0B ... 0x1C 0x0D), and each is
answered with one block (the ACK) before the next is read: one message at a time on a
connection, any number of connections at once. The handler is plain synchronous code (it writes
to the database) and runs in a worker thread, so the event loop keeps serving other connections.

Nothing a sender does stops the listener: bytes outside a block are skipped, a block larger than
the limit is read to its end without being kept and answered by ``on_oversize``, a stalled
half-sent block closes that connection after ``read_timeout``, and a handler failure closes only
its connection.

Nor do many senders: a connection silent for ``idle_timeout`` is closed, and beyond
``max_connections`` a new connection is closed as soon as it is accepted, so that idle
connections cannot use up the process's file descriptors (when they did, every accept failed
and the feed stopped). Such refusals, and accept failures for want of descriptors or memory,
are logged at most once a minute, with a count.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pointcare.serving.log_throttle import LogThrottle, held_back

log = logging.getLogger(__name__)

QUIET_SECONDS = 60.0
"""Repeated lines (connections refused or idle, accepts failing) are logged this often."""
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
READ_CHUNK = 64 * 1024
HEAD_BYTES = 4096
"""What is kept of an oversize message: enough for its MSH, to address the refusal."""

Handler = Callable[[bytes], bytes]
"""The message (inside the block) in, the reply out; called in a worker thread."""
OversizeHandler = Callable[[bytes, int], bytes]
"""The first ``HEAD_BYTES`` of a message over the limit, and the limit, in; the reply out."""


class IdleConnection(Exception):
    """Nothing arrived on a connection between messages for the idle timeout."""


@dataclass(frozen=True, slots=True)
class Block:
    data: bytes
    """The message, or only its head when ``oversize``."""
    oversize: bool = False


class BlockReader:
    """Reads MLLP blocks from a stream, keeping at most ``max_bytes`` of each."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        *,
        max_bytes: int,
        timeout: float,
        idle_timeout: float | None = None,
    ) -> None:
        self._reader = reader
        self._max = max_bytes
        self._timeout = timeout
        self._idle_timeout = idle_timeout
        self._buffer = bytearray()

    async def next_block(self) -> Block | None:
        """The next block; None at the end of the stream (a block cut short is dropped).

        Raises ``TimeoutError`` when a started block stalls for longer than the timeout, and
        ``IdleConnection`` when no block starts within the idle timeout.
        """
        while (start := self._buffer.find(START_BLOCK)) < 0:
            self._buffer.clear()  # bytes between blocks (keep-alive newlines, noise): skipped
            if not await self._fill(waiting_for_block=True):
                return None
        del self._buffer[: start + 1]
        head: bytes | None = None
        scanned = 0
        while (end := self._buffer.find(END_BLOCK, scanned)) < 0:
            if len(self._buffer) > self._max + len(END_BLOCK):
                # Over the limit: keep the head, drop the rest as it comes, find the end.
                if head is None:
                    head = bytes(self._buffer[:HEAD_BYTES])
                del self._buffer[: -len(END_BLOCK)]
            scanned = max(0, len(self._buffer) - len(END_BLOCK) + 1)
            if not await self._fill(waiting_for_block=False):
                return None
        data = bytes(self._buffer[:end])
        del self._buffer[: end + len(END_BLOCK)]
        if head is not None or len(data) > self._max:
            return Block(head if head is not None else data[:HEAD_BYTES], oversize=True)
        return Block(data)

    async def _fill(self, *, waiting_for_block: bool) -> bool:
        if waiting_for_block:  # between messages: the idle timeout
            try:
                chunk = await asyncio.wait_for(self._reader.read(READ_CHUNK), self._idle_timeout)
            except TimeoutError:
                raise IdleConnection from None
        else:
            chunk = await asyncio.wait_for(self._reader.read(READ_CHUNK), self._timeout)
        self._buffer += chunk
        return bool(chunk)


class MllpServer:
    """``await server.start()`` listens; ``await server.stop()`` closes every connection."""

    def __init__(
        self,
        handler: Handler,
        *,
        on_oversize: OversizeHandler,
        host: str,
        port: int,
        max_message_bytes: int,
        read_timeout: float = 60.0,
        idle_timeout: float = 300.0,
        max_connections: int = 200,
    ) -> None:
        self.handler = handler
        self.on_oversize = on_oversize
        self.host = host
        self.port = port
        self.max_message_bytes = max_message_bytes
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._quiet = LogThrottle(QUIET_SECONDS)
        self._previous_handler: Any = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port the system chose when asked for port 0)."""
        if self._server is None:
            raise RuntimeError("the MLLP server is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._on_loop_error)
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("MLLP listener on %s:%d", *self.address)

    async def stop(self) -> None:
        if self._server is None:
            return
        asyncio.get_running_loop().set_exception_handler(self._previous_handler)
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        log.info("MLLP listener stopped")

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio reports each failed accept (then pauses accepting for a second): out of file
        descriptors, that is one line a second for as long as it lasts. Once a minute here."""
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
            held = self._quiet("accept")
            if held is not None:
                log.error(
                    "connections cannot be accepted: %s (%d MLLP connections open)%s",
                    os.strerror(exc.errno or 0),
                    len(self._connections),
                    held_back(held),
                )
            return
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        if len(self._connections) >= self.max_connections:
            held = self._quiet("full")
            if held is not None:
                log.warning(
                    "MLLP %s: %d connections open, the most allowed; closed%s",
                    peer,
                    len(self._connections),
                    held_back(held),
                )
            await _close(writer)
            return
        self._connections.add(task)
        blocks = BlockReader(
            reader,
            max_bytes=self.max_message_bytes,
            timeout=self.read_timeout,
            idle_timeout=self.idle_timeout,
        )
        try:
            while (block := await blocks.next_block()) is not None:
                if block.oversize:
                    log.warning("MLLP %s: message over %d bytes", peer, self.max_message_bytes)
                    reply = self.on_oversize(block.data, self.max_message_bytes)
                else:
                    reply = await asyncio.to_thread(self.handler, block.data)
                writer.write(START_BLOCK + reply + END_BLOCK)
                await writer.drain()
        except IdleConnection:
            held = self._quiet("idle")
            if held is not None:
                log.info(
                    "MLLP %s: idle for %g s, closed%s", peer, self.idle_timeout, held_back(held)
                )
        except TimeoutError:
            log.warning("MLLP %s: message not finished within %g s", peer, self.read_timeout)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the sender went away; its next connection starts afresh
        except Exception as exc:
            held = self._quiet(f"error {type(exc).__name__}")
            if held is not None:
                log.exception("MLLP %s: connection closed after an error%s", peer, held_back(held))
        finally:
            self._connections.discard(task)
            await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def serve_until_signalled(server: MllpServer, *, ready: Callable[[], None]) -> None:
    """Run ``server`` until SIGINT or SIGTERM (``pointcare adt-listen``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    ready()
    try:
        await stop.wait()
    finally:
        await server.stop()


__all__ = [
    "END_BLOCK",
    "HEAD_BYTES",
    "START_BLOCK",
    "Block",
    "BlockReader",
    "Handler",
    "IdleConnection",
    "MllpServer",
    "OversizeHandler",
    "serve_until_signalled",
]
