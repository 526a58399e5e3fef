"""The asyncio HTTP client: :func:`fetch` (a streaming :class:`FetchResponse`) and
:func:`request` (a complete :class:`mgio.Response`, like :func:`mgio.request`).

Each exchange runs on its own private manager (see :mod:`mgio._aio_exchange`); this
module adds the deadlines, the answer to an authentication challenge, and redirects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any

from ._aio_exchange import Exchange, Head
from ._aio_opening import Opening
from ._aio_ws import _wait_for
from ._redirect import Redirects, TooManyRedirects, next_hop
from .client import Response, _auth_retry, _no_userinfo, _prepare
from .headers import Headers, HeadersLike

__all__ = ["FetchResponse", "TooManyRedirects", "fetch", "request"]

RequestBody = bytes | bytearray | memoryview | str | AsyncIterable[bytes | str] | None


def _replayable(body: Any) -> bool:
    """Whether ``body`` can be sent again (an async iterator cannot)."""
    return not isinstance(body, AsyncIterable)


class _Deadline:
    """The total time an exchange may take (None: no limit)."""

    def __init__(self, timeout: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.at = None if timeout is None else self._loop.time() + timeout

    def left(self, cap: float | None = None) -> float | None:
        left = None if self.at is None else max(0.0, self.at - self._loop.time())
        if cap is None:
            return left
        return cap if left is None else min(cap, left)

    async def wait(self, fut: asyncio.Future[Any], what: str, cap: float | None = None) -> Any:
        """``fut``'s result; TimeoutError saying ``what`` did not happen in time."""
        left = self.left(cap)
        try:
            return await _wait_for(asyncio.shield(fut), left)
        except TimeoutError:
            if fut.done():  # finished just as time ran out
                return fut.result()
            raise TimeoutError(f"{what} within {left if cap else self.timeout} s") from None


class FetchResponse:
    """A response whose body is read as it arrives; what :func:`fetch` gives.

    ``status``, ``reason``, ``headers`` (:class:`mgio.Headers`), ``http_version``,
    ``url`` (the last one requested, after redirects), ``history`` (the (status, url)
    of each redirect followed) and ``ok`` are known at once. The body is read once,
    by one of: ``async for chunk in resp.iter_chunks()`` (bounded memory: reading
    from the server pauses while the reader is behind), ``await resp.read()`` (bytes),
    ``await resp.complete()`` (an :class:`mgio.Response`, as :func:`request` returns),
    ``await resp.text()``, ``await resp.json()``. ``await resp.aclose()`` (or leaving
    ``async with``) drops the rest and the connection.
    """

    def __init__(self, exchange: Exchange, head: Head, url: str, deadline: _Deadline) -> None:
        self._exchange = exchange
        self._deadline = deadline
        self._used = False
        self.status = head.status
        self.reason = head.reason
        self.headers: Headers = head.headers
        self.http_version = head.http_version
        self.url = url
        self.history: list[tuple[int, str]] = []

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body, piece by piece as it arrives (de-chunked). Raises TimeoutError
        when the fetch's ``timeout`` passes, ConnectionError when the connection ends
        before the body does."""
        if self._used:
            raise RuntimeError("the body of this response was already read")
        self._used = True
        try:
            while True:
                data = await self._next_chunk()
                if data is None:
                    return
                yield data
        finally:
            self._exchange.release()

    async def _next_chunk(self) -> bytes | None:
        left = self._deadline.left()
        if left is None:
            return await self._exchange.next_chunk()
        try:
            data: bytes | None = await _wait_for(self._exchange.next_chunk(), left)
            return data
        except TimeoutError:
            raise TimeoutError(
                f"no complete response from {self.url} within {self._deadline.timeout} s"
            ) from None

    async def read(self, max_size: int | None = None) -> bytes:
        """The whole body; ValueError when it exceeds ``max_size`` bytes."""
        parts: list[bytes] = []
        size = 0
        async for data in self.iter_chunks():
            size += len(data)
            if max_size is not None and size > max_size:
                raise ValueError(f"the response body from {self.url} exceeds max_size={max_size}")
            parts.append(data)
        return b"".join(parts)

    async def complete(self, max_size: int | None = None) -> Response:
        """The whole response as an :class:`mgio.Response` (``.body``, ``.text``,
        ``.json()``)."""
        body = await self.read(max_size)
        return Response(self.status, self.reason, self.headers, body, self.http_version, self.url)

    async def text(self) -> str:
        """The body decoded with the Content-Type charset (UTF-8 by default)."""
        return (await self.complete()).text

    async def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON."""
        return (await self.complete()).json(**kwargs)

    async def aclose(self) -> None:
        """Drop what is left of the body, and the connection."""
        self.close()

    def close(self) -> None:
        """Drop what is left of the body, and the connection (not a coroutine)."""
        self._used = True
        self._exchange.release()

    async def __aenter__(self) -> FetchResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<mgio.aio.FetchResponse {self.status} {self.reason!r} {self.url}>"


async def _fetch_once(
    method: str,
    url: str,
    fields: list[tuple[str, str]],
    body: Any,
    deadline: _Deadline,
    connect_timeout: float | None,
    max_buffer: int,
) -> FetchResponse:
    exchange = Exchange(url, max_buffer)
    exchange.start(method, fields, body)
    try:
        await deadline.wait(exchange.connected, f"no connection to {url}", connect_timeout)
        head = await deadline.wait(exchange.head, f"no complete response from {url}")
        exchange.raise_if_failed()
    except BaseException:  # also a cancellation: the connection goes with the task
        exchange.release()
        raise
    return FetchResponse(exchange, head, url, deadline)


class _Fetch(Opening[FetchResponse]):
    """What :func:`fetch` returns: awaitable (the response) and an async context
    manager (which closes the response at exit)."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self._url = url
        self._options = options

    async def _close(self, opened: FetchResponse) -> None:
        opened.close()

    async def _open(self) -> FetchResponse:
        o = self._options
        method: str = o["method"].upper()
        url = self._url
        prepared, body = _prepare(o["headers"], o["body"], o["json"])
        fields = list(Headers(prepared).items()) if prepared is not None else []
        auth: tuple[str, str] | None = o["auth"]
        deadline = _Deadline(o["timeout"])
        redirects = Redirects(o["follow_redirects"], o["max_redirects"])

        async def once() -> FetchResponse:
            return await _fetch_once(
                method, url, fields, body, deadline, o["connect_timeout"], o["max_buffer"]
            )

        while True:
            resp = await once()
            retry = _auth_retry(method, url, fields, resp, auth) if _replayable(body) else None
            if retry is not None:
                resp.close()
                url, fields = _no_userinfo(url), retry
                resp = await once()
            try:
                location = resp.headers.get("location")
                hop = redirects.follow(resp.status, url, next_hop(
                    resp.status, location, method, url, fields, body, _replayable(body)))
            except TooManyRedirects:
                resp.close()
                raise
            if hop is None:
                resp.history = redirects.history
                return resp
            resp.close()
            method, url, fields, body = hop.method, hop.url, hop.headers, hop.body
            if not hop.same_origin:
                auth = None


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: HeadersLike | None = None,
    body: RequestBody = None,
    json: Any = None,
    timeout: float | None = 10.0,
    connect_timeout: float | None = None,
    follow_redirects: bool = False,
    max_redirects: int = 5,
    auth: tuple[str, str] | None = None,
    max_buffer: int = 1 << 20,
) -> _Fetch:
    """Send a request from the running loop; the response's body streams::

        async with mgio.aio.fetch("http://127.0.0.1:8000/big") as resp:
            print(resp.status, resp.headers.get("content-type"))
            async for chunk in resp.iter_chunks():
                ...

    or ``resp = await fetch(...)`` and ``await resp.aclose()`` when the body is not
    read to its end. ``headers``, ``body`` (bytes-like or str) and ``json`` are those
    of :func:`mgio.request`; ``body`` may also be an async iterator of bytes/str,
    sent with the chunked transfer coding as it yields (then a 401 challenge is not
    answered and a 307/308 redirect not followed: the body cannot be sent again).

    ``timeout`` (seconds; None: no limit) bounds the whole exchange, reading the body
    included; ``connect_timeout`` the connection alone. Both raise the builtin
    TimeoutError. ``follow_redirects=True`` follows up to ``max_redirects``
    redirects (then :class:`TooManyRedirects`): 301/302 turn a POST into a GET,
    303 anything but HEAD; 307/308 keep the method and the body; Authorization is
    dropped (and ``auth`` no longer used) when the host changes. ``auth=(user,
    password)`` answers a 401 Digest or Basic challenge once, as :func:`mgio.request`
    does. ``max_buffer`` bytes of body at most wait unread. Other errors:
    ConnectionError/OSError when the connection fails or ends early, ValueError for a
    bad URL, method or header. Cancelling the awaiting task closes the connection.
    """
    return _Fetch(
        url,
        {
            "method": method,
            "headers": headers,
            "body": body,
            "json": json,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "follow_redirects": follow_redirects,
            "max_redirects": max_redirects,
            "auth": auth,
            "max_buffer": max_buffer,
        },
    )


async def request(
    method: str,
    url: str,
    headers: HeadersLike | None = None,
    body: RequestBody = None,
    timeout: float | None = 10.0,
    *,
    json: Any = None,
    max_size: int | None = None,
    auth: tuple[str, str] | None = None,
    follow_redirects: bool = False,
    max_redirects: int = 5,
    connect_timeout: float | None = None,
) -> Response:
    """Send one HTTP request from the running loop and return the complete
    :class:`mgio.Response` (the asyncio twin of :func:`mgio.request`: the same
    arguments, errors and ``auth=`` behaviour; ``max_size`` bounds the body, else
    ValueError). ``timeout`` covers the whole exchange (TimeoutError). The options
    of :func:`fetch` apply: ``follow_redirects``, ``max_redirects``,
    ``connect_timeout``, a ``body`` from an async iterator."""
    async with fetch(
        url,
        method=method,
        headers=headers,
        body=body,
        json=json,
        timeout=timeout,
        connect_timeout=connect_timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        auth=auth,
    ) as resp:
        return await resp.complete(max_size)
