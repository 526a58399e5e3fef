"""One accepted connection of :func:`mgio.aio.serve`: runs the handler for each request
and writes its answer.

The C layer hands over a connection's requests one at a time: a pipelined request is not
parsed until the answer to the one before it is complete (queued whole, its chunked body
ended), however late a coroutine gives it. So answers leave in request order, each is
framed for its own request (``Connection``, HEAD), and requests a client pipelines while
a handler runs wait in the receive buffer, whose limit stops reading from the socket:
that is the back-pressure. A client that shut its sending side still gets its answers
(the C layer holds the close until they are queued). A streamed answer waits while the
send buffer holds more than ``SEND_HIGH_WATER`` bytes.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._aio_http import Request, Response, aiter_bytes, as_response
from ._core import Connection, HttpMessage
from .events import (
    EV_CLOSE,
    EV_HTTP_REQUEST,
    EV_SEND,
    EV_WEBSOCKET_HANDSHAKE_DONE,
    EV_WEBSOCKET_HANDSHAKE_REQUEST,
    event_bit,
)

if TYPE_CHECKING:
    from ._aio_server import Server

# A streamed answer waits while more than this is queued, until it is down to a quarter.
SEND_HIGH_WATER = 1 << 20

Handler = Callable[[Request], Any]


class ServerConnection:
    """The handler (in the mgio sense) of one accepted connection."""

    _mgio_events = (
        event_bit(EV_HTTP_REQUEST)
        | event_bit(EV_SEND)
        | event_bit(EV_CLOSE)
        | event_bit(EV_WEBSOCKET_HANDSHAKE_REQUEST)
        | event_bit(EV_WEBSOCKET_HANDSHAKE_DONE)
    )

    def __init__(self, server: Server, conn: Connection) -> None:
        self.server = server
        self.conn = conn
        self._loop = server.loop
        self._answering = False  # a request was handed over and is not answered yet
        self._task: asyncio.Task[None] | None = None  # its coroutine, then its body stream
        self._drain: asyncio.Future[None] | None = None
        self.closed = False
        conn.handler = self

    # ---- state seen by the server ----------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a request waits for its answer or an answer is being written."""
        return self._answering

    def tasks(self) -> list[asyncio.Task[None]]:
        """The handler or streaming task still running."""
        return [self._task] if self._task is not None and not self._task.done() else []

    def cancel(self) -> None:
        """Cancel the handler or streaming task of this connection."""
        for task in self.tasks():
            task.cancel()

    # ---- events ---------------------------------------------------------------------

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev == EV_HTTP_REQUEST:
            self._on_request(data)
        elif ev == EV_SEND:
            if self._drain is not None and len(conn.send_buf) <= SEND_HIGH_WATER // 4:
                self._wake_drain()
        elif ev == EV_CLOSE:
            self._on_close()
        elif ev == EV_WEBSOCKET_HANDSHAKE_REQUEST:
            self.server.ws_handshake(conn, data)
        elif ev == EV_WEBSOCKET_HANDSHAKE_DONE:
            self.server.ws_open(conn, data)

    def _on_request(self, msg: HttpMessage) -> None:
        request = Request.from_message(msg, self.conn.remote_address)
        self._answering = True
        if self.server.closing:
            self._write(request, Response(503, "The server is shutting down\n",
                                          {"Connection": "close"}))
            return
        try:
            result = self.server.handler(request)
        except Exception as e:
            self._fail(request, e)
            return
        if inspect.isawaitable(result):
            self._task = self._loop.create_task(self._await_handler(request, result))
        else:
            self._answer(request, result)

    async def _await_handler(self, request: Request, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except Exception as e:
            self._task = None
            self._fail(request, e)
            return
        self._task = None
        self._answer(request, value)

    def _answer(self, request: Request, result: object) -> None:
        try:
            response = as_response(result)
        except (TypeError, ValueError) as e:
            self._fail(request, e)
            return
        self._write(request, response)

    def _fail(self, request: Request, error: Exception) -> None:
        """A handler raised: its request is answered 500 and the connection closes."""
        self._loop.call_exception_handler(
            {"message": f"an mgio.aio.serve handler raised for {request!r}", "exception": error}
        )
        self._write(request, Response(500, "Internal Server Error\n", {"Connection": "close"}))

    def _on_close(self) -> None:
        self.closed = True
        self.cancel()
        self._wake_drain()
        self.server.forget(self)

    # ---- writing --------------------------------------------------------------------

    def _write(self, request: Request, response: Response) -> None:
        if self.closed:
            return
        try:
            if response.stream is None:
                self.conn.reply(response.status, response.body, response.headers)
            elif request.http_version == "HTTP/1.0":  # no chunked coding: collected first
                self._task = self._loop.create_task(self._collect(request, response))
                return
            else:
                self.conn.send_head(response.status, -1, response.headers)
                self._task = self._loop.create_task(self._stream(request, response))
                return
        except ConnectionError:
            return  # closed meanwhile: EV_CLOSE follows
        self._done(response)

    def _done(self, response: Response) -> None:
        """The answer is queued whole: close when it asks to, or when shutting down."""
        self._answering = False
        if (response.closes or self.server.closing) and not self.closed:
            self.conn.close()  # once the answer is sent

    async def _collect(self, request: Request, response: Response) -> None:
        assert response.stream is not None
        try:
            body = b"".join([c async for c in aiter_bytes(response.stream)])
        except Exception as e:
            self._task = None
            self._stream_failed(request, e)
            return
        self._task = None
        self._write(request, Response(response.status, body, response.headers))

    async def _stream(self, request: Request, response: Response) -> None:
        assert response.stream is not None
        chunks = aiter_bytes(response.stream)
        try:
            if request.method != "HEAD":  # (a HEAD answer has no body to produce)
                async for data in chunks:
                    self.conn.send_chunk(data)
                    await self._drained()
            self.conn.send_chunk(b"")
        except ConnectionError:
            return  # closed meanwhile: EV_CLOSE follows
        except Exception as e:
            self._stream_failed(request, e)
            return
        finally:
            self._task = None
            await chunks.aclose()
        self._done(response)

    def _stream_failed(self, request: Request, error: Exception) -> None:
        """A streamed body raised: its head is out, so the connection is dropped."""
        self._loop.call_exception_handler(
            {"message": f"the body of the answer to {request!r} raised", "exception": error}
        )
        if not self.closed:
            self.conn.close(immediately=True)

    async def _drained(self) -> None:
        if len(self.conn.send_buf) <= SEND_HIGH_WATER:
            return
        self._drain = self._loop.create_future()
        try:
            await self._drain
        finally:
            self._drain = None
        if self.closed:
            raise ConnectionError("the client closed the connection")

    def _wake_drain(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
