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

``await mgio.aio.request(method, url, ...)`` is the asyncio twin of :func:`mgio.request`.

WebSocket: ``async with mgio.aio.connect_ws(url) as ws`` opens a client
(:func:`connect_ws`), ``async with mgio.aio.serve_ws(handler) as server`` serves one
coroutine per connection (:func:`serve_ws`); both hand out :class:`WebSocket` objects
with ``send``/``recv``/``async for``/``ping``/``close``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from ._aio_ws import WebSocket, WebSocketServer, connect_ws, serve_ws
from ._core import Manager
from .client import Response, _auth_retry, _no_userinfo, _start
from .headers import HeadersLike

__all__ = [
    "Driver",
    "WebSocket",
    "WebSocketServer",
    "connect_ws",
    "drive",
    "request",
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


async def request(
    method: str,
    url: str,
    headers: HeadersLike | None = None,
    body: bytes | bytearray | memoryview | str | None = None,
    timeout: float = 10.0,
    *,
    json: Any = None,
    max_size: int | None = None,
    auth: tuple[str, str] | None = None,
) -> Response:
    """Send one HTTP request from the running loop and return the :class:`Response`.

    The same arguments and errors as :func:`mgio.request` (TimeoutError after
    ``timeout`` seconds, ConnectionError when the connection fails or closes early); a
    private manager is driven by the loop meanwhile, so other tasks keep running.
    ``auth=(user, password)`` answers a 401 Digest or Basic challenge by repeating the
    request once, as :func:`mgio.request` does (the body is sent twice: bytes or str).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    response = await _request_once(method, url, headers, body, timeout, json, max_size)
    retry = _auth_retry(method, url, headers, response, auth)
    if retry is not None:
        left = max(0.0, deadline - loop.time())
        url = _no_userinfo(url)
        response = await _request_once(method, url, retry, body, left, json, max_size)
    return response


async def _request_once(
    method: str,
    url: str,
    headers: HeadersLike | None,
    body: Any,
    timeout: float,
    json: Any,
    max_size: int | None,
) -> Response:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def finished() -> None:
        if not done.done():
            done.set_result(None)

    with Manager() as mgr:
        exchange = _start(mgr, method, url, headers, body, json, max_size, finished)
        async with Driver(mgr, loop) as driver:
            stopped = loop.create_task(driver.wait())
            try:
                await asyncio.wait(
                    {done, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopped.cancel()
                await asyncio.gather(stopped, return_exceptions=True)
            driver.raise_if_failed()
            if not exchange.done:
                raise TimeoutError(f"no complete response from {url} within {timeout} s")
    if exchange.error is not None:
        raise exchange.error
    assert exchange.response is not None
    return exchange.response
