"""WebSocket on asyncio: :func:`connect_ws` (client) and :func:`serve_ws` (server), both
re-exported by :mod:`mgio.aio`. See those functions and :class:`WebSocket`.

Every connection is an mgio connection whose handler is its :class:`WebSocket`; a
:class:`~mgio.aio.Driver` polls the manager from the loop, so frames are read, answered
(Ping -> Pong), reassembled and inflated by the C layer between other asyncio work.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

from ._aio_opening import Opening
from ._core import Connection, HttpMessage, Manager, WebSocketMessage
from .events import (
    EV_CLOSE,
    EV_CONNECT,
    EV_HTTP_REQUEST,
    EV_SEND,
    EV_WEBSOCKET_CONTROL_FRAME,
    EV_WEBSOCKET_FRAME,
    EV_WEBSOCKET_HANDSHAKE_DONE,
    EV_WEBSOCKET_HANDSHAKE_REQUEST,
    Flag,
    WsOp,
    event_bit,
)
from .headers import HeadersLike
from .websocket import WebSocketClosed, WebSocketError, WebSocketHandshakeError


async def _wait_for(aw: Awaitable[Any], timeout: float | None) -> Any:
    """asyncio.wait_for raising the builtin TimeoutError on every Python version (before
    3.11 asyncio had its own TimeoutError class)."""
    try:
        return await asyncio.wait_for(aw, timeout)
    except asyncio.TimeoutError as e:
        raise TimeoutError(str(e) or "timed out") from None


__all__ = ["WebSocket", "WebSocketServer", "connect_ws", "serve_ws"]

_CLOSING = Flag.SEND_AND_CLOSE | Flag.CLOSE_IMMEDIATELY


#: the Connection.set_limits() keyword of each WebSocket argument
_LIMIT_KEYS = {
    "max_message": "ws_max_message",
    "max_fragments": "ws_max_fragments",
    "ping_interval": "ws_ping_interval",
    "ping_timeout": "ws_ping_timeout",
    "deflate": "ws_deflate",
}


def _limits(**given: Any) -> dict[str, Any]:
    """The Connection.set_limits() keywords for the arguments that were given."""
    return {_LIMIT_KEYS[name]: value for name, value in given.items() if value is not None}


class WebSocket:
    """One WebSocket connection driven by the running asyncio loop: what
    :func:`connect_ws` gives and what a :func:`serve_ws` handler gets.

    Receiving: ``await ws.recv()`` returns the next data message as a
    :class:`mgio.WebSocketMessage` (``.data`` bytes, ``.text`` str, ``.is_text``,
    ``.opcode``), already reassembled from its fragments and inflated; ``async for msg
    in ws`` does the same until the peer closes normally (1000, 1001, no code) and
    raises :class:`~mgio.WebSocketClosed` for any other close. Control frames never
    show here: Pings are answered by mgio, Pongs resolve :meth:`ping`, a Close ends the
    stream. At most ``max_queue`` messages wait unread; then reading from the socket
    pauses (back-pressure on the peer) until ``recv()`` catches up.

    Sending: ``await ws.send(data)`` sends a str as a text message, a bytes-like object
    as a binary one, a WebSocketMessage with its own opcode (an echo); ``op`` and
    ``fin=False`` (then :data:`~mgio.WsOp.CONTINUE` frames) make fragments. It returns
    once the frame is queued and the connection's send queue is below ``write_limit``
    bytes; above that it waits for the socket to drain (back-pressure on this side).

    ``await ws.close(code, reason)`` runs the closing handshake; ``closed``,
    ``close_code`` and ``close_reason`` tell how it ended. ``subprotocol`` is the
    negotiated subprotocol (or None), ``request`` the upgrade request (server side) and
    ``response`` the server's 101 (client side), both :class:`mgio.HttpMessage`.
    """

    _mgio_events = (
        event_bit(EV_CONNECT)
        | event_bit(EV_WEBSOCKET_HANDSHAKE_DONE)
        | event_bit(EV_WEBSOCKET_FRAME)
        | event_bit(EV_WEBSOCKET_CONTROL_FRAME)
        | event_bit(EV_SEND)
        | event_bit(EV_CLOSE)
    )

    def __init__(
        self,
        conn: Connection,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        max_queue: int = 16,
        write_limit: int = 1 << 20,
        close_timeout: float = 5.0,
        request: HttpMessage | None = None,
        subprotocol: str | None = None,
        url: str = "",
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        if write_limit < 0:
            raise ValueError("write_limit must be >= 0")
        self._conn = conn
        self._loop = loop or asyncio.get_running_loop()
        self._max_queue = max_queue
        self._write_limit = write_limit
        self.close_timeout = close_timeout
        self.request = request
        self.response: HttpMessage | None = None
        self.subprotocol = subprotocol
        self.url = url
        self.remote_address = conn.remote_address
        self.local_address = conn.local_address
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._queue: collections.deque[WebSocketMessage] = collections.deque()
        self._recv_waiter: asyncio.Future[None] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._opened: asyncio.Future[None] = self._loop.create_future()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._paused = False
        self._recv_limit = conn.recv_limit
        self._on_closed: Callable[[], None] | None = None
        if conn.is_websocket:
            self._opened.set_result(None)
        conn.handler = self

    # ---- state ----------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The underlying :class:`mgio.Connection`."""
        return self._conn

    @property
    def open(self) -> bool:
        """True while messages may be sent: open, and no Close sent or received."""
        return self._opened.done() and not self._closed.done() and self.close_code is None

    @property
    def closed(self) -> bool:
        """True once the connection is closed (``close_code`` is then set)."""
        return self._closed.done()

    def _closed_error(self) -> WebSocketClosed:
        return WebSocketClosed(
            self.close_code if self.close_code is not None else 1006, self.close_reason or ""
        )

    # ---- events (called by the manager, on the loop's thread) ------------------------

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev == EV_WEBSOCKET_FRAME:
            self._queue.append(data)
            if len(self._queue) >= self._max_queue and not self._paused:
                self._paused = True
                conn.recv_limit = 0  # stop reading until recv() catches up
            self._wake_recv()
        elif ev == EV_SEND:
            if self._drain_waiters and len(conn.send_buf) <= self._write_limit // 4:
                self._wake_drain()
        elif ev == EV_WEBSOCKET_CONTROL_FRAME:
            op = data.opcode
            if op == WsOp.PONG:
                self._pong(data.data)
            elif op == WsOp.CLOSE:
                self.close_code = data.close_code
                self.close_reason = data.close_reason
                self._wake_recv()
        elif ev == EV_WEBSOCKET_HANDSHAKE_DONE:
            self._handshake_done(data)
        elif ev == EV_CONNECT:
            if data != 0 and not self._opened.done():
                if data == -1:
                    err: OSError = ConnectionError(f"cannot resolve the host of {self.url}")
                else:
                    err = OSError(data, f"{os.strerror(data)}: {self.url}")
                self._fail_open(err)
        elif ev == EV_CLOSE:
            self._on_close()

    def _handshake_done(self, msg: HttpMessage) -> None:
        if self._opened.done():
            return
        if msg.status == 101:
            self.response = msg
            self.subprotocol = msg.header("Sec-WebSocket-Protocol")
            self.remote_address = self._conn.remote_address
            self.local_address = self._conn.local_address
            self._opened.set_result(None)
        else:
            self._fail_open(WebSocketHandshakeError(msg.status, msg.headers))

    def _fail_open(self, error: BaseException) -> None:
        self._opened.set_exception(error)
        self._opened.exception()  # retrieved: connect_ws may have stopped waiting

    def _on_close(self) -> None:
        if self.close_code is None:
            self.close_code = 1006
            self.close_reason = ""
        if not self._opened.done():
            self._fail_open(
                ConnectionError(f"the connection to {self.url} closed during the handshake")
            )
        if not self._closed.done():
            self._closed.set_result(None)
        self._wake_recv()
        self._wake_drain()
        for fut, _ in self._pings.values():
            if not fut.done():
                fut.set_exception(self._closed_error())
        self._pings.clear()
        if self._on_closed is not None:
            self._loop.call_soon(self._on_closed)

    def _wake_recv(self) -> None:
        w = self._recv_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _wake_drain(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def _pong(self, payload: bytes) -> None:
        """A Pong answers the Ping with its payload and every Ping sent before it."""
        if payload not in self._pings:
            return
        now = time.monotonic()
        for key in list(self._pings):
            fut, sent = self._pings.pop(key)
            if not fut.done():
                fut.set_result(now - sent)
            if key == payload:
                break

    # ---- receiving ------------------------------------------------------------------

    async def recv(self, timeout: float | None = None) -> WebSocketMessage:
        """The next data message (a :class:`mgio.WebSocketMessage`). Raises
        :class:`~mgio.WebSocketClosed` once the WebSocket is closed and every message
        received before was read, and TimeoutError after ``timeout`` seconds (no
        message is lost by a timeout or a cancellation)."""
        while True:
            if self._queue:
                msg = self._queue.popleft()
                if self._paused and len(self._queue) <= self._max_queue // 4:
                    self._paused = False
                    if not self._conn.closed:
                        self._conn.recv_limit = self._recv_limit
                return msg
            if self._closed.done() or self.close_code is not None:
                # a Close came in: nothing follows it (RFC 6455 5.5.1)
                raise self._closed_error()
            if self._recv_waiter is not None:
                raise RuntimeError("another coroutine is already waiting in recv()")
            self._recv_waiter = self._loop.create_future()
            try:
                if timeout is None:
                    await self._recv_waiter
                else:
                    await _wait_for(self._recv_waiter, timeout)
            finally:
                self._recv_waiter = None

    def __aiter__(self) -> AsyncIterator[WebSocketMessage]:
        return self

    async def __anext__(self) -> WebSocketMessage:
        try:
            return await self.recv()
        except WebSocketClosed as e:
            if e.ok:
                raise StopAsyncIteration from None
            raise

    # ---- sending --------------------------------------------------------------------

    async def send(
        self,
        data: str | bytes | bytearray | memoryview | WebSocketMessage,
        op: int | None = None,
        *,
        fin: bool = True,
    ) -> None:
        """Send one message (or fragment, with ``fin=False``): str as text, bytes-like
        as binary, a WebSocketMessage with its opcode, unless ``op`` says otherwise
        (see :meth:`mgio.Connection.send_ws`). Waits while the send queue is over
        ``write_limit`` bytes. Raises :class:`~mgio.WebSocketClosed` once closed,
        :class:`~mgio.WebSocketError` after the closing handshake started, ValueError
        for invalid frames."""
        if self._closed.done():
            raise self._closed_error()
        try:
            self._conn.send_ws(data, op, fin=fin)
        except WebSocketError:
            if self.close_code is not None or self._closed.done():
                raise self._closed_error() from None
            raise
        if len(self._conn.send_buf) > self._write_limit:
            await self.drain()

    async def drain(self) -> None:
        """Wait until the send queue is at most ``write_limit // 4`` bytes (or raise
        :class:`~mgio.WebSocketClosed` when the connection closes first)."""
        while len(self._conn.send_buf) > self._write_limit // 4:
            if self._closed.done():
                raise self._closed_error()
            fut = self._loop.create_future()
            self._drain_waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._drain_waiters:
                    self._drain_waiters.remove(fut)
        if self._closed.done() and len(self._conn.send_buf):
            raise self._closed_error()

    async def ping(self, data: bytes | None = None, timeout: float | None = None) -> float:
        """Send a Ping (``data``: at most 125 bytes; a fresh random payload by default)
        and wait for its Pong; returns the round-trip time in seconds. TimeoutError
        after ``timeout`` seconds, WebSocketClosed when the connection closes first."""
        if data is None:
            payload = os.urandom(4)
            while payload in self._pings:
                payload = os.urandom(4)
        else:
            payload = bytes(data)
            if payload in self._pings:
                raise ValueError("a Ping with this payload is already waiting for its Pong")
        if self._closed.done():
            raise self._closed_error()
        fut: asyncio.Future[float] = self._loop.create_future()
        self._conn.send_ws(payload, WsOp.PING)
        self._pings[payload] = (fut, time.monotonic())
        try:
            rtt: float = await _wait_for(fut, timeout)
            return rtt
        finally:
            entry = self._pings.get(payload)
            if entry is not None and entry[0] is fut:
                del self._pings[payload]

    # ---- closing --------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "", timeout: float | None = None) -> None:
        """Run the closing handshake: send a Close with ``code`` and ``reason`` (unless
        one was sent or received already), wait for the peer's Close and the end of the
        connection, at most ``timeout`` seconds (``close_timeout`` by default), then
        drop the connection. Safe to call more than once and after the peer closed."""
        if not self._closed.done():
            if self._conn.is_websocket:
                try:
                    self._conn.ws_close(code, reason)
                except ConnectionError:
                    pass
            else:
                self._conn.close()
        await self.wait_closed(self.close_timeout if timeout is None else timeout)

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until the connection is closed; after ``timeout`` seconds it is closed
        at once (no TimeoutError)."""
        if self._closed.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), timeout)
        except asyncio.TimeoutError:
            self._conn.close(immediately=True)
            await asyncio.wait_for(asyncio.shield(self._closed), 1.0)

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (close code 1006)."""
        self._conn.close(immediately=True)

    def __repr__(self) -> str:
        state = "open" if self.open else "closed" if self.closed else "closing"
        return f"<mgio.aio.WebSocket {state} peer={self.remote_address}>"


# ---- client ----------------------------------------------------------------------------


class _ClientConnect(Opening[WebSocket]):
    """What connect_ws() returns: awaitable (the open WebSocket) and an async context
    manager (closes it, and the private manager, at exit)."""

    def __init__(self, url: str, kwargs: dict[str, Any]) -> None:
        self._url = url
        self._kwargs = kwargs

    async def _close(self, opened: WebSocket) -> None:
        await opened.close()

    async def _open(self) -> WebSocket:
        from .aio import Driver

        k = self._kwargs
        loop = asyncio.get_running_loop()
        mgr = Manager()
        driver = None
        try:
            conn = mgr.connect_ws(
                self._url, None, k["protocol"], k["headers"], deflate=k["deflate"]
            )
            lim = _limits(max_message=k["max_message"], max_fragments=k["max_fragments"],
                          ping_interval=k["ping_interval"], ping_timeout=k["ping_timeout"])
            if lim:
                conn.set_limits(**lim)
            ws = _OwnedWebSocket(
                conn,
                loop=loop,
                max_queue=k["max_queue"],
                write_limit=k["write_limit"],
                close_timeout=k["close_timeout"],
                url=self._url,
            )
            driver = Driver(mgr, loop).start()
            ws._own(mgr, driver)
            try:
                await asyncio.wait_for(asyncio.shield(ws._opened), k["open_timeout"])
            except asyncio.TimeoutError:
                raise TimeoutError(
                    f"the WebSocket handshake with {self._url} did not complete within "
                    f"{k['open_timeout']} s"
                ) from None
            driver.raise_if_failed()
            return ws
        except BaseException:
            if driver is not None:
                driver.stop()
            if not mgr.closed:
                mgr.close()
            raise


class _OwnedWebSocket(WebSocket):
    """A client WebSocket with its own manager and driver, released when it closes."""

    _mgr: Manager | None = None
    _driver: Any = None

    def _own(self, mgr: Manager, driver: Any) -> None:
        self._mgr = mgr
        self._driver = driver
        self._on_closed = self._release

    def _release(self) -> None:
        if self._driver is not None:
            self._driver.stop()
            self._driver = None
        if self._mgr is not None:
            mgr, self._mgr = self._mgr, None
            if not mgr.closed:
                mgr.close()

    async def close(self, code: int = 1000, reason: str = "", timeout: float | None = None) -> None:
        try:
            await super().close(code, reason, timeout)
        finally:
            # also when cancelled, or when the driver died and nothing polls any more:
            # closing the manager ends the connection (EV_CLOSE) and frees everything
            self._release()


def connect_ws(
    url: str,
    *,
    protocol: str | Iterable[str] | None = None,
    headers: HeadersLike | None = None,
    deflate: bool = True,
    max_message: int | None = None,
    max_fragments: int | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_queue: int = 16,
    write_limit: int = 1 << 20,
    open_timeout: float = 10.0,
    close_timeout: float = 5.0,
) -> _ClientConnect:
    """Open a WebSocket to ``url`` (``ws://host[:port][/path][?query]``; ``user:pass@``
    adds Basic auth; no TLS) from the running loop::

        async with mgio.aio.connect_ws("ws://127.0.0.1:8000/chat") as ws:
            await ws.send("hello")
            msg = await ws.recv()          # a WebSocketMessage: msg.text, msg.data

    or ``ws = await connect_ws(...)`` and ``await ws.close()`` at the end. ``protocol``
    offers subprotocols (a name, ``"a, b"`` or a list; the chosen one is
    ``ws.subprotocol``); ``headers`` adds fields to the upgrade request; ``deflate``
    offers permessage-deflate. ``max_message`` (bytes, default 1 MiB) and
    ``max_fragments`` bound what is received (a larger message closes with 1009);
    ``ping_interval`` (seconds, default 20, 0 off) pings a quiet server, and
    ``ping_timeout`` (seconds, default 20, 0 off) closes with 1011 when nothing arrives
    within it after that Ping;
    ``max_queue``/``write_limit``: see :class:`WebSocket`. Raises
    :class:`~mgio.WebSocketHandshakeError` when the server refuses (``.status``),
    TimeoutError after ``open_timeout`` seconds, ConnectionError/OSError when the
    connection fails, ValueError for a bad URL or header. A private manager, driven by
    the loop, carries the connection and is released when it closes.
    """
    return _ClientConnect(
        url,
        {
            "protocol": protocol,
            "headers": headers,
            "deflate": deflate,
            "max_message": max_message,
            "max_fragments": max_fragments,
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "max_queue": max_queue,
            "write_limit": write_limit,
            "open_timeout": open_timeout,
            "close_timeout": close_timeout,
        },
    )


# ---- server ----------------------------------------------------------------------------

WsHandler = Callable[[WebSocket], Awaitable[object]]


async def run_ws_handler(handler: WsHandler, ws: WebSocket) -> None:
    """Run a server-side WebSocket handler: its WebSocket is closed when it returns
    (1000), raises (1011; the exception goes to the loop's exception handler;
    WebSocketClosed is not an error) or is cancelled (dropped)."""
    try:
        await handler(ws)
    except WebSocketClosed:
        pass  # the peer went away while the handler worked: not an error
    except asyncio.CancelledError:
        ws.abort()
        raise
    except Exception as e:
        asyncio.get_running_loop().call_exception_handler(
            {"message": "a WebSocket handler raised", "exception": e, "websocket": ws}
        )
        await ws.close(1011, "handler error")
    finally:
        await ws.close()


def _offered(msg: HttpMessage) -> list[str]:
    """The subprotocols a client offers, in its order."""
    out: list[str] = []
    for name, value in msg.headers.items():
        if name.lower() == "sec-websocket-protocol":
            out += [v.strip() for v in value.split(",") if v.strip()]
    return out


class WebSocketServer:
    """A WebSocket server on the running loop; made by :func:`serve_ws`. ``port``,
    ``url`` (``ws://host:port/``), ``connections`` (the open :class:`WebSocket`\\ s),
    ``manager`` and ``listener`` (the mgio objects) describe it; ``await close()`` (or
    leaving ``async with``) stops it."""

    _mgio_events = (
        event_bit(EV_HTTP_REQUEST)
        | event_bit(EV_WEBSOCKET_HANDSHAKE_REQUEST)
        | event_bit(EV_WEBSOCKET_HANDSHAKE_DONE)
    )

    def __init__(
        self,
        handler: WsHandler,
        host: str,
        port: int,
        *,
        subprotocols: Iterable[str] | None,
        limits: dict[str, Any],
        max_queue: int,
        write_limit: int,
        close_timeout: float,
        process_request: Callable[[Connection, HttpMessage], object] | None,
    ) -> None:
        self._handler = handler
        self._host = host
        self._subprotocols = list(subprotocols) if subprotocols is not None else None
        self._max_queue = max_queue
        self._write_limit = write_limit
        self._close_timeout = close_timeout
        self._process_request = process_request
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections: set[WebSocket] = set()
        self._chosen: dict[Connection, str | None] = {}
        self._loop = asyncio.get_running_loop()
        self.manager = Manager()
        try:
            address = f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"
            self.listener = self.manager.bind(address, self, http=True)
            if limits:
                self.listener.set_limits(**limits)
            local = self.listener.local_address
            assert local is not None
            self.port: int = local[1]
        except BaseException:
            self.manager.close()
            raise
        from .aio import Driver

        self._driver = Driver(self.manager, self._loop).start()
        self._closing = False

    @property
    def url(self) -> str:
        """``ws://host:port/``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"ws://{host}:{self.port}/"

    # ---- the listener's events ------------------------------------------------------

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev == EV_WEBSOCKET_HANDSHAKE_REQUEST:
            self._handshake_request(conn, data)
        elif ev == EV_WEBSOCKET_HANDSHAKE_DONE:
            self._open(conn, data)
        elif ev == EV_HTTP_REQUEST:
            # a plain request to a WebSocket server
            conn.reply(
                426,
                "this is a WebSocket server: ask for an upgrade\n",
                {"Upgrade": "websocket", "Connection": "close"},
            )
            conn.close()

    def _handshake_request(self, conn: Connection, msg: HttpMessage) -> None:
        if self._closing:
            conn.send_error(503)
            return
        if self._process_request is not None:
            self._process_request(conn, msg)
            if conn.closed or conn.flags & _CLOSING or len(conn.send_buf):
                return  # refused (or answered) by process_request
        offered = _offered(msg)
        chosen: str | None = offered[0] if offered else None
        if self._subprotocols is not None:
            chosen = next((p for p in offered if p in self._subprotocols), None)
            conn.ws_select_protocol(chosen)
        self._chosen[conn] = chosen

    def _open(self, conn: Connection, msg: HttpMessage) -> None:
        chosen = self._chosen.pop(conn, None)
        ws = WebSocket(
            conn,
            loop=self._loop,
            max_queue=self._max_queue,
            write_limit=self._write_limit,
            close_timeout=self._close_timeout,
            request=msg,
            subprotocol=chosen,
            url=f"ws://{msg.header('Host', '')}{msg.uri}",
        )
        self.connections.add(ws)
        task = self._loop.create_task(self._run(ws))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, ws: WebSocket) -> None:
        try:
            await run_ws_handler(self._handler, ws)
        finally:
            self.connections.discard(ws)

    # ---- lifetime -------------------------------------------------------------------

    async def serve_forever(self) -> None:
        """Serve until :meth:`close` (re-raises what stopped the driver, if anything)."""
        await self._driver.wait()

    async def close(self, code: int = 1001, reason: str = "", timeout: float = 5.0) -> None:
        """Stop: refuse new connections, close the open WebSockets with ``code`` (1001
        "going away"), let their handlers finish for up to ``timeout`` seconds (then
        cancel them), and release the manager."""
        if self.manager.closed:
            return
        self._closing = True
        self.listener.close()
        for ws in list(self.connections):
            if ws.open:
                try:
                    ws.connection.ws_close(code, reason)
                except ConnectionError:
                    pass
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._driver.stop()
        self.manager.close()

    async def __aenter__(self) -> WebSocketServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed = self._driver.running is False and not self.manager.closed
        await self.close()
        if failed and exc is None:
            self._driver.raise_if_failed()


def serve_ws(
    handler: WsHandler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    subprotocols: Iterable[str] | None = None,
    deflate: bool = True,
    max_message: int | None = None,
    max_fragments: int | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_queue: int = 16,
    write_limit: int = 1 << 20,
    close_timeout: float = 5.0,
    process_request: Callable[[Connection, HttpMessage], object] | None = None,
) -> WebSocketServer:
    """Serve WebSocket on ``host:port`` (0: a free port) from the running loop; each
    connection runs ``await handler(ws)`` in its own task with a :class:`WebSocket`::

        async def echo(ws):
            async for msg in ws:
                await ws.send(msg)          # same opcode: text stays text

        async with mgio.aio.serve_ws(echo) as server:
            print(server.url)               # ws://127.0.0.1:PORT/
            await server.serve_forever()

    When the handler returns the WebSocket is closed (1000); when it raises, with 1011
    (the exception goes to the loop's exception handler; WebSocketClosed is not an
    error). ``subprotocols``: the ones the server speaks; the first the client offers
    that is among them is chosen, none when the client offers none of them (None:
    accept the client's first offer). ``deflate`` accepts permessage-deflate;
    ``max_message`` (bytes, default 1 MiB; larger -> Close 1009), ``max_fragments``,
    ``ping_interval`` (seconds, default 20, 0 off), ``ping_timeout`` (seconds without
    input after that Ping before Close 1011; default 20, 0 off) are the connection
    limits (see
    ``Connection.set_limits``); ``max_queue``/``write_limit`` the back-pressure of
    :class:`WebSocket`. ``process_request(conn, msg)`` sees each upgrade request
    first and may refuse it (``conn.send_error(403)``). A plain HTTP request gets 426.
    Returns the started server (``async with`` it, or ``await server.close()``).
    """
    return WebSocketServer(
        handler,
        host,
        port,
        subprotocols=subprotocols,
        limits=_limits(max_message=max_message, max_fragments=max_fragments,
                       ping_interval=ping_interval, ping_timeout=ping_timeout,
                       deflate=deflate),
        max_queue=max_queue,
        write_limit=write_limit,
        close_timeout=close_timeout,
        process_request=process_request,
    )
