"""An HTTP server on the running asyncio loop: :func:`serve` and its :class:`Server`.

A private manager, driven by the loop, listens; each accepted connection gets a
:class:`~mgio._aio_serve_conn.ServerConnection`, which runs the handler per request and
writes the answers in order. Upgrade requests to a path of ``ws_routes`` become
:class:`~mgio.aio.WebSocket` connections, each served by its own task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Mapping
from types import TracebackType
from typing import Any

from ._aio_serve_conn import Handler, ServerConnection
from ._aio_ws import WebSocket, WsHandler, run_ws_handler
from ._core import Connection, HttpMessage, Manager
from .events import EV_ACCEPT, event_bit

__all__ = ["Server", "serve"]

# After the handlers finished, how long closing waits for their answers to leave.
_FLUSH_WAIT = 1.0


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server:
    """An HTTP server on the running loop; made by :func:`serve`.

    ``host``, ``port`` and ``url`` (``http://host:port``) say where it listens.
    ``close()`` stops accepting; ``await wait_closed()`` lets the requests in progress
    finish (at most ``shutdown_timeout`` seconds, then their tasks are cancelled) and
    closes every connection; ``async with`` does both at exit (and, when the block is
    cancelled, drops everything at once). ``await serve_forever()`` waits until it is
    closed. ``manager`` and ``listener`` are the mgio objects underneath.
    """

    _mgio_events = event_bit(EV_ACCEPT)

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        max_body: int | None,
        ws_routes: Mapping[str, WsHandler] | None,
        shutdown_timeout: float,
    ) -> None:
        self.handler = handler
        self.host = host
        self.shutdown_timeout = shutdown_timeout
        self.closing = False
        self.loop = asyncio.get_running_loop()
        self._ws_routes = dict(ws_routes or {})
        self._conns: set[ServerConnection] = set()
        self._ws_tasks: set[asyncio.Task[None]] = set()
        self._websockets: set[WebSocket] = set()
        self.manager = Manager()
        try:
            self.listener = self.manager.bind(f"tcp://{_authority(host, port)}", self, http=True)
            if max_body is not None:
                self.listener.set_limits(body=max_body)
            local = self.listener.local_address
            assert local is not None
            self.port: int = local[1]
        except BaseException:
            self.manager.close()
            raise
        from .aio import Driver

        self._driver = Driver(self.manager, self.loop).start()

    @property
    def url(self) -> str:
        """``http://host:port`` (IPv6 hosts in brackets)."""
        return f"http://{_authority(self.host, self.port)}"

    @property
    def connection_count(self) -> int:
        """The open HTTP and WebSocket connections."""
        return len(self._conns) + len(self._websockets)

    # ---- the listener's events and the connections' callbacks -----------------------

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev == EV_ACCEPT:
            if self.closing:
                conn.close(immediately=True)
                return
            self._conns.add(ServerConnection(self, conn))

    def forget(self, sc: ServerConnection) -> None:
        """A connection closed, or became a WebSocket."""
        self._conns.discard(sc)

    def ws_handshake(self, conn: Connection, msg: HttpMessage) -> None:
        """An upgrade request: refused unless its path is a WebSocket route."""
        if self.closing:
            conn.send_error(503)
        elif msg.uri not in self._ws_routes:
            conn.send_error(404)

    def ws_open(self, conn: Connection, msg: HttpMessage) -> None:
        """The upgrade is done: the WebSocket's handler runs in its own task."""
        sc = conn.handler
        if isinstance(sc, ServerConnection):
            self.forget(sc)
        url = f"ws://{msg.header('Host', '')}{msg.uri}"
        ws = WebSocket(conn, loop=self.loop, request=msg, url=url)
        self._websockets.add(ws)
        task = self.loop.create_task(run_ws_handler(self._ws_routes[msg.uri], ws))
        self._ws_tasks.add(task)
        task.add_done_callback(self._ws_tasks.discard)
        task.add_done_callback(lambda _: self._websockets.discard(ws))

    # ---- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Stop accepting: the listener closes, idle connections close, the others
        after their answers; later requests on them get 503. WebSockets get a Close
        (1001 "going away")."""
        if self.closing:
            return
        self.closing = True
        if not self.manager.closed:
            self.listener.close()
        for sc in list(self._conns):
            if not sc.busy and not sc.closed:
                sc.conn.close()
        for ws in list(self._websockets):
            if ws.open:
                try:
                    ws.connection.ws_close(1001, "")
                except ConnectionError:
                    pass

    def _tasks(self) -> set[asyncio.Task[None]]:
        tasks = set(self._ws_tasks)
        for sc in self._conns:
            tasks.update(sc.tasks())
        return tasks

    async def wait_closed(self) -> None:
        """Close (if not yet), wait for the requests in progress (at most
        ``shutdown_timeout`` seconds; then their tasks are cancelled) and for their
        answers to leave, and release the manager."""
        self.close()
        if self.manager.closed:
            return
        tasks = self._tasks()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        deadline = self.loop.time() + _FLUSH_WAIT
        while self._unsent() and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        self.abort()

    def _unsent(self) -> bool:
        return any(not sc.closed and len(sc.conn.send_buf) for sc in self._conns)

    def abort(self) -> None:
        """Drop everything at once: cancel the handlers, close every connection and the
        listener, release the manager."""
        self.closing = True
        for sc in list(self._conns):
            sc.cancel()
        for task in list(self._ws_tasks):
            task.cancel()
        self._driver.stop()
        if not self.manager.closed:
            self.manager.close()

    async def serve_forever(self) -> None:
        """Wait until the server is closed (re-raises what stopped its driver, if
        anything)."""
        await self._driver.wait()

    def __await__(self) -> Generator[Any, None, Server]:
        async def started() -> Server:
            return self

        return started().__await__()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self.abort()
            return
        await self.wait_closed()

    def __repr__(self) -> str:
        state = "closing" if self.closing else "serving"
        return f"<mgio.aio.Server {state} {self.url}>"


def serve(
    handler: Handler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    max_body: int | None = None,
    ws_routes: Mapping[str, WsHandler] | None = None,
    shutdown_timeout: float = 5.0,
) -> Server:
    """Serve HTTP on ``host:port`` (0: a free port) from the running loop::

        async def hello(req: mgio.aio.Request) -> mgio.aio.Response:
            return mgio.aio.Response(200, f"hello {req.query.get('name', 'world')}")

        async with mgio.aio.serve(hello) as server:
            print(server.url)               # http://127.0.0.1:PORT
            await server.serve_forever()

    ``handler(request)`` gets a :class:`Request` and returns a :class:`Response`, or
    what ``Response(200, ...)`` takes as a body (bytes, str, a dict or list for JSON,
    an async iterator of chunks), or None (204). It may be a plain function or a
    coroutine function: a coroutine answers whenever it finishes, meanwhile the loop
    (and the other connections) go on. Pipelined requests are answered in order: a
    connection's next request is handed over once the answer before it is complete,
    and while a handler runs, what the client sends waits in the connection's receive
    buffer (reading pauses when it is full). A
    handler that raises gets its request answered 500 and that connection closed (the
    exception goes to the loop's exception handler); the server goes on.
    ``max_body`` bounds a request body (bytes; default 1 MiB; larger: 413).
    ``ws_routes`` maps paths to WebSocket handlers (``async def h(ws)``, as for
    :func:`serve_ws`); an upgrade request to another path gets 404.

    Returns the started :class:`Server`: ``async with`` it, or ``await`` it and
    ``close()`` / ``await wait_closed()`` at the end.
    """
    return Server(
        handler,
        host,
        port,
        max_body=max_body,
        ws_routes=ws_routes,
        shutdown_timeout=shutdown_timeout,
    )
