"""Drive an mgio Manager from a running asyncio event loop.

The manager's descriptor (``Manager.fileno()``) goes to ``loop.add_reader`` and its timers
to ``loop.call_at``, so handlers run on the loop's thread between other asyncio work and
nothing blocks the loop::

    async def main():
        with mgio.Manager() as mgr:
            mgr.bind("tcp://127.0.0.1:0", handler)
            async with mgio.aio.Driver(mgr) as driver:
                await asyncio.sleep(10)      # the server runs meanwhile
                driver.raise_if_failed()

An exception raised by a handler stops the driver; it is re-raised by ``wait()``,
``raise_if_failed()`` and when the ``async with`` block exits.

HTTP server: ``async with mgio.aio.serve(handler) as server`` runs ``handler(request)``
(a plain or coroutine function taking a :class:`Request`, returning a :class:`Response`,
bytes, str, a dict, or an async iterator streamed chunked) per request; pipelined
requests are answered in order (:func:`serve`).

HTTP client: ``await mgio.aio.request(method, url, ...)`` is the asyncio twin of
:func:`mgio.request`; ``async with mgio.aio.fetch(url) as resp`` streams the response
body (``resp.iter_chunks()``); both follow redirects on request and take a request body
from an async iterator (:func:`fetch`).

WebSocket: ``async with mgio.aio.connect_ws(url) as ws`` opens a client
(:func:`connect_ws`), ``async with mgio.aio.serve_ws(handler) as server`` serves one
coroutine per connection (:func:`serve_ws`); both hand out :class:`WebSocket` objects
with ``send``/``recv``/``async for``/``ping``/``close``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from ._aio_client import FetchResponse, TooManyRedirects, fetch, request
from ._aio_http import Request, Response
from ._aio_server import Server, serve
from ._aio_ws import WebSocket, WebSocketServer, connect_ws, serve_ws
from ._core import Manager

__all__ = [
    "Driver",
    "FetchResponse",
    "Request",
    "Response",
    "Server",
    "TooManyRedirects",
    "WebSocket",
    "WebSocketServer",
    "connect_ws",
    "drive",
    "fetch",
    "request",
    "serve",
    "serve_ws",
]

# Without an epoll descriptor (the poll(2) backend) the loop polls on this period.
_FALLBACK_PERIOD = 0.005


class Driver:
    """Runs ``manager.poll(0)`` whenever its descriptor is readable or a timer is due."""

    def __init__(self, manager: Manager, loop: asyncio.AbstractEventLoop | None = None):
        self.manager = manager
        self._loop = loop
        self._fd = -1
        self._timer: asyncio.Handle | None = None
        self._done: asyncio.Future[None] | None = None

    def start(self) -> Driver:
        """Attach to the loop (the running one unless given); returns self."""
        if self._done is not None:
            raise RuntimeError("the driver is already started")
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        self._done = loop.create_future()
        self._fd = self.manager.fileno()
        if self._fd >= 0:
            loop.add_reader(self._fd, self._poll)
        # A first poll registers connections made before the driver started.
        self._timer = loop.call_soon(self._poll)
        return self

    def stop(self) -> None:
        """Detach from the loop; the manager keeps its connections."""
        self._detach()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    @property
    def running(self) -> bool:
        return self._done is not None and not self._done.done()

    async def wait(self) -> None:
        """Until stop() is called or a handler raises (then re-raises that exception)."""
        if self._done is None:
            raise RuntimeError("the driver is not started")
        await asyncio.shield(self._done)

    def raise_if_failed(self) -> None:
        """Re-raise the exception that stopped the driver, if any."""
        if self._done is not None and self._done.done():
            self._done.result()

    async def __aenter__(self) -> Driver:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failed = self._done is not None and self._done.done()
        self.stop()
        if failed and exc is None:
            self.raise_if_failed()

    def _detach(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._fd >= 0 and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._fd = -1

    def _poll(self) -> None:
        if not self.running:
            return
        try:
            self.manager.poll(0)
        except BaseException as e:  # a handler raised, or the manager was closed
            self._detach()
            assert self._done is not None
            if not self._done.done():
                self._done.set_exception(e)
            if not isinstance(e, Exception):
                raise
            return
        self._schedule()

    def _schedule(self) -> None:
        """Arm the loop timer for the manager's next deadline (timers, pending closes)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.manager.closed:
            self.stop()
            return
        assert self._loop is not None
        # next_timer() includes the C layer's own deadlines (a WebSocket's idle Ping and
        # close wait, a lingering close), so nothing is polled in vain while idle.
        now = self.manager.time()
        due = self.manager.next_timer()
        if self._fd < 0:
            due = min(due, now + _FALLBACK_PERIOD) if due else now + _FALLBACK_PERIOD
        if due:
            self._timer = self._loop.call_later(max(0.0, due - now), self._poll)


def drive(manager: Manager) -> Driver:
    """A started Driver for ``manager`` on the running loop (``async with`` it, or stop())."""
    return Driver(manager).start()
