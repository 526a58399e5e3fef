"""One accepted connection of :func:`mgio.aio.serve`: runs the handler for each request
and writes the answers in request order.

The C layer parses and dispatches every request already buffered on a connection at
once (pipelining), whether or not the earlier ones are answered. So each request gets a
slot in a per-connection queue; a handler (plain or coroutine) fills its slot's answer
whenever it finishes, and the queue is written from its front only, so answers leave in
request order even when later handlers finish first. Back-pressure: with
``max_pending`` requests queued, reading from the socket pauses (``recv_limit = 0``)
until the queue is half empty; a streamed answer waits while the send buffer is full.

Two behaviours of the C layer shape the writing (see ``_hold``):

- The head of a response is framed for the request the C layer parsed last (its
  ``Connection`` field and whether it was HEAD), which under pipelining is not the one
  being answered: every head here names its ``Connection`` field itself, and bodies are
  queued with ``Connection.send`` after a head (left out for HEAD) rather than through
  ``reply``.
- Once a request that ends the connection (``Connection: close``, HTTP/1.0) has been
  dispatched, the C layer closes the connection as soon as any output is queued and no
  chunked answer is open, even when that output answers an earlier request. Whole
  answers before it therefore wait until they can be written together with it, a
  chunked answer (whose open state the C layer does track) goes out as it comes, and
  output still unsent when that request arrives is taken back and queued again first.
- A client that shut its sending side (EOF) is closed by the net layer once the send
  buffer is empty, waiting for an answer only until the first output is queued after
  the request. So before writing, a connection whose peer shut its side takes its close
  over (clears SEND_AND_CLOSE) and closes itself after its last answer: a streamed
  answer and the answers to earlier pipelined requests are not cut short. (When the EOF
  comes after the first answer was written, that is too late: see the report of this
  layer.)
"""

from __future__ import annotations

import asyncio
import collections
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
    Flag,
    event_bit,
)

if TYPE_CHECKING:
    from ._aio_server import Server

# A streamed answer waits while more than this is queued, until it is down to a quarter.
SEND_HIGH_WATER = 1 << 20

Handler = Callable[[Request], Any]


class _Slot:
    """One request on the connection and, once its handler finished, its answer."""

    __slots__ = ("head", "http10", "last", "request", "response", "task")

    def __init__(self, request: Request, head: bool) -> None:
        self.request = request
        self.head = head
        self.http10 = request.http_version == "HTTP/1.0"
        self.last = not request.keep_alive
        self.response: Response | None = None
        self.task: asyncio.Task[None] | None = None


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
        self._queue: collections.deque[_Slot] = collections.deque()
        self._recv_limit = conn.recv_limit
        self._paused = False
        self._failed = False  # a handler raised: no more requests are taken
        self._last_seen = False  # the C layer saw the request that ends the connection
        self._chunked_open = False  # the C layer counts a chunked answer as open
        self._held = b""  # output taken back from the send buffer (see the module doc)
        self._peer_shut = False  # the client shut its side; this closes after the answers
        self._closing = False  # close() was called here
        self._stream_task: asyncio.Task[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._flush_soon: asyncio.Handle | None = None
        self.closed = False
        conn.handler = self

    # ---- state seen by the server ----------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a request waits for its answer or an answer is being written."""
        return bool(self._queue) or self._stream_task is not None

    def tasks(self) -> list[asyncio.Task[None]]:
        """The handler and streaming tasks still running."""
        out = [s.task for s in self._queue if s.task is not None]
        if self._stream_task is not None:
            out.append(self._stream_task)
        return [t for t in out if not t.done()]

    def cancel(self) -> None:
        """Cancel every handler and streaming task of this connection."""
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
            self.server.ws_handshake(conn, data, self.busy)
        elif ev == EV_WEBSOCKET_HANDSHAKE_DONE:
            self.server.ws_open(conn, data)

    def _on_request(self, msg: HttpMessage) -> None:
        if self._failed:
            return  # the connection closes after the answers queued before
        slot = _Slot(Request.from_message(msg, self.conn.remote_address), msg.method == "HEAD")
        self._queue.append(slot)
        if slot.last:
            self._see_last()
        if self.server.closing:
            self._failed = True
            slot.last = True
            slot.response = Response(503, "The server is shutting down\n", {"Connection": "close"})
        else:
            self._run_handler(slot)
        if len(self._queue) >= self.server.max_pending and not self._paused:
            self._set_paused(True)
        self._schedule_flush()

    def _see_last(self) -> None:
        """The request that ends the connection arrived: keep the C layer from closing
        on the output of earlier answers (see the module doc)."""
        self._last_seen = True
        if not self._chunked_open and len(self.conn.send_buf):
            self._held = bytes(self.conn.send_buf)
            self.conn.send_buf.clear()

    def _run_handler(self, slot: _Slot) -> None:
        try:
            result = self.server.handler(slot.request)
        except Exception as e:
            self._fail(slot, e)
            return
        if inspect.isawaitable(result):
            slot.task = self._loop.create_task(self._await_handler(slot, result))
        else:
            self._answer(slot, result)

    async def _await_handler(self, slot: _Slot, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except Exception as e:
            self._fail(slot, e)
        else:
            self._answer(slot, value)
        finally:
            slot.task = None
            self._schedule_flush()

    def _answer(self, slot: _Slot, result: object) -> None:
        try:
            slot.response = as_response(result)
        except (TypeError, ValueError) as e:
            self._fail(slot, e)
            return
        if slot.response.closes:
            slot.last = True

    def _fail(self, slot: _Slot, error: Exception) -> None:
        """A handler raised: its request is answered 500 and the connection closes."""
        self._loop.call_exception_handler(
            {
                "message": f"an mgio.aio.serve handler raised for {slot.request!r}",
                "exception": error,
            }
        )
        self._failed = True
        self._set_paused(True)
        slot.last = True
        slot.response = Response(500, "Internal Server Error\n", {"Connection": "close"})

    def _on_close(self) -> None:
        self.closed = True
        self.cancel()
        self._queue.clear()
        self._wake_drain()
        self.server.forget(self)

    # ---- writing --------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        # Not at once: the other requests of the same read are dispatched first, so
        # _see_last knows of a closing request before anything is written.
        if self._flush_soon is None and not self.closed:
            self._flush_soon = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_soon = None
        while self._queue and self._stream_task is None and not self.closed:
            slot = self._queue[0]
            if slot.response is None or self._hold():
                break
            self._queue.popleft()
            try:
                self._write(slot, slot.response)
            except ConnectionError:
                return  # closed meanwhile: EV_CLOSE follows
        if self._paused and not self._failed and len(self._queue) <= self.server.max_pending // 2:
            self._set_paused(False)
        if (self.server.closing or self._peer_shut) and not self.busy and not self.closed:
            self._close()  # idle now: shutting down, or the client sends nothing more

    def _hold(self) -> bool:
        """Whether whole answers must wait for the one to the closing request."""
        if not self._last_seen or self._chunked_open:
            return False
        for slot in self._queue:
            if slot.response is None:
                return True
            if slot.last or (slot.response.stream is not None and not slot.http10):
                return False
        return True

    def _take_over_close(self) -> None:
        """Before writing to a client that shut its side (see the module doc)."""
        flags = self.conn.flags
        if flags & Flag.SEND_AND_CLOSE and not self._closing:
            self.conn.flags = flags & ~Flag.SEND_AND_CLOSE
            self._peer_shut = True

    def _close(self) -> None:
        self._closing = True
        self.conn.close()

    def _send(self, data: bytes) -> None:
        self._take_over_close()
        if self._held:
            held, self._held = self._held, b""
            self.conn.send(held)
        if data:
            self.conn.send(data)

    def _fields(self, slot: _Slot, response: Response) -> list[tuple[str, str]]:
        fields = list(response.headers)
        if not any(n.lower() == "connection" for n, _ in fields):
            # named for this request: the C layer would name it for the last one parsed
            fields.append(("Connection", "close" if slot.last else "keep-alive"))
        return fields

    def _write(self, slot: _Slot, response: Response) -> None:
        if response.stream is not None:
            if slot.http10:  # no chunked coding for HTTP/1.0: collected first
                self._stream_task = self._loop.create_task(self._collect(slot, response))
                return
            self._send(b"")
            self.conn.send_head(response.status, -1, self._fields(slot, response))
            self._chunked_open = True
            self._stream_task = self._loop.create_task(self._stream(slot, response))
            return
        self._send(b"")
        body = response.body
        self.conn.send_head(response.status, len(body), self._fields(slot, response))
        if body and not slot.head:
            self.conn.send(body)
        if slot.last:
            self._end()

    def _end(self) -> None:
        """The closing request is answered: nothing more is written."""
        for slot in self._queue:
            if slot.task is not None:
                slot.task.cancel()
        self._queue.clear()
        self._close()

    async def _collect(self, slot: _Slot, response: Response) -> None:
        assert response.stream is not None
        try:
            body = b"".join([c async for c in aiter_bytes(response.stream)])
        except Exception as e:
            self._stream_failed(slot, e)
            return
        self._stream_task = None
        whole = Response(response.status, body, response.headers)
        self._write_then_flush(slot, whole)

    def _write_then_flush(self, slot: _Slot, response: Response) -> None:
        try:
            self._write(slot, response)
        except ConnectionError:
            return
        self._flush()

    async def _stream(self, slot: _Slot, response: Response) -> None:
        assert response.stream is not None
        chunks = aiter_bytes(response.stream)
        try:
            if not slot.head:
                async for data in chunks:
                    self._take_over_close()
                    self.conn.send(b"%x\r\n" % len(data))
                    self.conn.send(data)
                    self.conn.send(b"\r\n")
                    await self._drained()
            self._end_chunked(slot)
        except ConnectionError:
            return  # closed meanwhile: EV_CLOSE follows
        except Exception as e:
            self._stream_failed(slot, e)
            return
        finally:
            self._stream_task = None
            await chunks.aclose()
        if slot.last:
            self._end()
        else:
            self._flush()

    def _end_chunked(self, slot: _Slot) -> None:
        if not slot.request.keep_alive:
            # the request the C layer parsed last: it ends its open chunked answer (and,
            # for HEAD, sends nothing), then closes
            self.conn.send_chunk(b"")
            self._chunked_open = False
        elif not slot.head:
            # sent as plain bytes, so the C layer keeps counting a chunked answer open
            self.conn.send(b"0\r\n\r\n")

    def _stream_failed(self, slot: _Slot, error: Exception) -> None:
        """A streamed body raised: its head is out, so the connection is dropped."""
        self._stream_task = None
        self._loop.call_exception_handler(
            {"message": f"the body of the answer to {slot.request!r} raised", "exception": error}
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

    def _set_paused(self, paused: bool) -> None:
        if self.closed or paused == self._paused:
            return
        self._paused = paused
        self.conn.recv_limit = 0 if paused else self._recv_limit
