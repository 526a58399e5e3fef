"""One HTTP request and its response over a private manager driven by the loop: the
engine under :func:`mgio.aio.fetch`.

The response body streams: each EV_HTTP_CHUNK's bytes are taken off the connection
(``delete_chunk``) into a queue that ``next_chunk()`` empties; above ``max_buffer``
queued bytes, reading from the socket pauses (``recv_limit = 0``) until the reader
catches up, so memory stays bounded whatever the body's size. A request body given as
an async iterator is sent with the chunked transfer coding by a task that waits while
the send buffer is full; the request head is then written here, since
``Manager.connect_http`` sends a whole body with Content-Length.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import re
from collections.abc import AsyncIterable
from typing import Any
from urllib.parse import unquote, urlsplit

from ._aio_http import aiter_bytes
from ._core import Connection, HttpMessage, Manager
from .events import EV_CLOSE, EV_CONNECT, EV_HTTP_CHUNK, EV_HTTP_REPLY, EV_SEND, event_bit

__all__ = ["Exchange", "Head"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SEND_HIGH_WATER = 1 << 20


class Head:
    """The status line and header fields of a response."""

    __slots__ = ("headers", "http_version", "reason", "status")

    def __init__(self, msg: HttpMessage) -> None:
        self.status = msg.status
        self.reason = msg.status_text
        self.headers = msg.headers
        self.http_version = msg.proto


def _address(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def streaming_head(method: str, url: str, headers: list[tuple[str, str]]) -> tuple[str, bytes]:
    """The address to connect to and the head of a request whose body is sent chunked."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError(f"not an http:// URL: {url!r}")
    if not _TOKEN.match(method) or method == "HEAD":
        raise ValueError(f"invalid method {method!r} for a request with a body")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append(f"Authorization: Basic {base64.b64encode(user_pass.encode()).decode()}")
    for name, value in headers:
        if not _TOKEN.match(name) or _BAD_VALUE.search(value):
            raise ValueError(f"invalid header field {name!r}: {value!r}")
        if name.lower() in ("host", "content-length", "transfer-encoding"):
            raise ValueError(f"{name!r} is set by mgio")
        lines.append(f"{name}: {value}")
    lines.append("Transfer-Encoding: chunked")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return _address(parts.hostname, parts.port or 80), head


class Exchange:
    """The connection handler and state of one request/response."""

    _mgio_events = (
        event_bit(EV_CONNECT)
        | event_bit(EV_HTTP_CHUNK)
        | event_bit(EV_HTTP_REPLY)
        | event_bit(EV_SEND)
        | event_bit(EV_CLOSE)
    )

    def __init__(self, url: str, max_buffer: int) -> None:
        self.url = url
        self._loop = asyncio.get_running_loop()
        self._max_buffer = max_buffer
        self.connected: asyncio.Future[None] = self._loop.create_future()
        self.head: asyncio.Future[Head] = self._loop.create_future()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self._wake: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._paused = False
        self._recv_limit = 0
        self._pump: asyncio.Task[None] | None = None
        self.conn: Connection | None = None
        self.mgr = Manager()
        from .aio import Driver

        self._driver = Driver(self.mgr, self._loop)

    # ---- starting -------------------------------------------------------------------

    def start(self, method: str, headers: list[tuple[str, str]], body: Any) -> None:
        """Connect and send the request (a streamed body from its own task)."""
        try:
            if isinstance(body, AsyncIterable):
                address, head = streaming_head(method, self.url, headers)
                self.conn = self.mgr.connect(address, self, http=True)
                self.conn.send(head)
                self._pump = self._loop.create_task(self._send_body(body))
                self._pump.add_done_callback(self._pump_done)
            else:
                self.conn = self.mgr.connect_http(
                    self.url, self, method=method, headers=headers, body=body
                )
            self._recv_limit = self.conn.recv_limit
            self._driver.start()
        except BaseException:
            self.release()
            raise

    async def _send_body(self, body: AsyncIterable[bytes | str]) -> None:
        await self.connected
        conn = self.conn
        assert conn is not None
        async for data in aiter_bytes(body):
            conn.send(b"%x\r\n" % len(data))
            conn.send(data)
            conn.send(b"\r\n")
            await self._drained(conn)
        conn.send(b"0\r\n\r\n")

    def _pump_done(self, task: asyncio.Task[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None and not self.done:
            # the body's iterator raised: the request cannot be completed
            self._fail(error)
            if self.conn is not None and not self.conn.closed:
                self.conn.close(immediately=True)

    async def _drained(self, conn: Connection) -> None:
        while len(conn.send_buf) > _SEND_HIGH_WATER and not self.done:
            self._drain = self._loop.create_future()
            try:
                await self._drain
            finally:
                self._drain = None
        if self._error is not None:
            raise self._error

    # ---- events ---------------------------------------------------------------------

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev == EV_HTTP_CHUNK:
            self._got_head(data)
            self._push(data.body)
            conn.delete_chunk()
        elif ev == EV_SEND:
            if self._drain is not None and len(conn.send_buf) <= _SEND_HIGH_WATER // 4:
                self._set(self._drain)
        elif ev == EV_HTTP_REPLY:
            self._got_head(data)
            self._push(data.body)
            self._eof = True
            self._set(self._wake)
            conn.close()
        elif ev == EV_CONNECT:
            self._connected(data)
        elif ev == EV_CLOSE:
            self._closed()
            # nothing more can come: free the manager (not from inside its own poll),
            # also when nobody closes the response
            self._loop.call_soon(self._drop_manager)

    def _connected(self, err: int) -> None:
        if err == 0:
            self._set(self.connected)
        elif err == -1:
            self._fail(ConnectionError(f"cannot resolve the host of {self.url}"))
        else:
            self._fail(OSError(err, f"{os.strerror(err)}: {self.url}"))

    def _closed(self) -> None:
        if not self._eof:
            self._fail(
                ConnectionError(
                    f"the connection to {self.url} closed before a complete response "
                    "(the server closed early or sent a malformed response)"
                )
            )
        self._set(self._drain)

    def _got_head(self, msg: HttpMessage) -> None:
        if not self.head.done():
            self.head.set_result(Head(msg))

    def _push(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > self._max_buffer and not self._paused and self.conn is not None:
            self._paused = True
            self.conn.recv_limit = 0  # until next_chunk() catches up
        self._set(self._wake)

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        for fut in (self.connected, self.head):
            if not fut.done():
                fut.set_exception(error)
                fut.exception()  # retrieved: nobody may be waiting any more
        self._set(self._wake)
        self._set(self._drain)

    @staticmethod
    def _set(fut: asyncio.Future[Any] | None) -> None:
        if fut is not None and not fut.done():
            fut.set_result(None)

    # ---- reading --------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the whole response arrived or the exchange failed."""
        return self._eof or self._error is not None

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body; None at its end. Raises what failed the
        exchange (ConnectionError, OSError)."""
        while not self._chunks:
            if self._eof:
                return None
            if self._error is not None:
                raise self._error
            self._wake = self._loop.create_future()
            try:
                await self._wake
            finally:
                self._wake = None
        data = self._chunks.popleft()
        self._buffered -= len(data)
        if self._paused and self._buffered <= self._max_buffer // 4:
            self._paused = False
            if self.conn is not None and not self.conn.closed:
                self.conn.recv_limit = self._recv_limit
        return data

    def release(self) -> None:
        """Stop the body pump, drop the connection and release the manager."""
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
        self._drop_manager()
        self._chunks.clear()
        if not self.done:
            self._fail(ConnectionError(f"the exchange with {self.url} was closed"))

    def _drop_manager(self) -> None:
        self._driver.stop()
        if not self.mgr.closed:
            self.mgr.close()

    def raise_if_failed(self) -> None:
        """Re-raise an exception that stopped the driver."""
        self._driver.raise_if_failed()
