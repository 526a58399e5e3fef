"""A small synchronous HTTP client: ``mgio.request()`` and its :class:`Response`.

Each call runs a private :class:`~mgio.Manager` until the response is complete or the
timeout passes; the body streams through in pieces (``Connection.delete_chunk``), so
``max_size`` bounds memory, not the C layer's buffered-body limit.
:func:`mgio.aio.request` is the asyncio twin.
"""

from __future__ import annotations

import json as _json
import os
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from ._core import Connection, HttpMessage, Manager
from ._redirect import Redirects, next_hop
from .events import EV_CLOSE, EV_CONNECT, EV_HTTP_CHUNK, EV_HTTP_REPLY, event_bit
from .headers import Headers, HeadersLike

__all__ = ["Response", "request"]


class Response:
    """A complete HTTP response.

    ``status`` (int), ``reason`` (the reason phrase), ``headers`` (:class:`mgio.Headers`),
    ``body`` (bytes), ``http_version`` ("HTTP/1.1"), ``url`` (as requested, the last one
    after redirects), ``history`` (the (status, url) of each redirect followed);
    ``text`` and ``json()`` decode the body.
    """

    __slots__ = ("body", "headers", "history", "http_version", "reason", "status", "url")

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Headers,
        body: bytes,
        http_version: str = "HTTP/1.1",
        url: str = "",
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.http_version = http_version
        self.url = url
        self.history: list[tuple[int, str]] = []

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        ctype = self.headers.get("content-type", "")
        for param in ctype.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "charset" and value:
                return value.strip().strip('"')
        return None

    @property
    def text(self) -> str:
        """The body decoded with the Content-Type charset (UTF-8 when none is given or it
        is unknown); undecodable bytes become U+FFFD."""
        charset = self.charset or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (``json.loads`` keyword arguments are passed on)."""
        return _json.loads(self.body, **kwargs)

    def __repr__(self) -> str:
        return f"<mgio.Response {self.status} {self.reason!r} body={len(self.body)} bytes>"


def _prepare(
    headers: HeadersLike | None, body: Any, json: Any
) -> tuple[list[tuple[str, str]] | HeadersLike | None, Any]:
    """The headers and body to send, with ``json=`` turned into a JSON body."""
    if json is None:
        return headers, body
    if body is not None:
        raise TypeError("give body= or json=, not both")
    fields = list(Headers(headers).items()) if headers is not None else []
    if not any(name.lower() == "content-type" for name, _ in fields):
        fields.append(("Content-Type", "application/json"))
    return fields, _json.dumps(json).encode()


class _Exchange:
    """The handler of one client request: collects the body as it streams in, then
    builds the Response. ``on_done`` is called once, when ``response`` or ``error`` is
    set."""

    _mgio_events = (
        event_bit(EV_CONNECT)
        | event_bit(EV_HTTP_CHUNK)
        | event_bit(EV_HTTP_REPLY)
        | event_bit(EV_CLOSE)
    )

    def __init__(
        self, url: str, max_size: int | None, on_done: Callable[[], None] | None = None
    ) -> None:
        self.url = url
        self.max_size = max_size
        self.on_done = on_done
        self.parts: list[bytes] = []
        self.size = 0
        self.response: Response | None = None
        self.error: BaseException | None = None
        self.done = False

    def _finish(
        self,
        conn: Connection,
        response: Response | None = None,
        error: BaseException | None = None,
    ) -> None:
        if self.done:
            return
        self.done = True
        self.response = response
        self.error = error
        conn.close()
        if self.on_done is not None:
            self.on_done()

    def _take(self, conn: Connection, body: bytes) -> bool:
        if body:
            self.size += len(body)
            if self.max_size is not None and self.size > self.max_size:
                self._finish(
                    conn,
                    error=ValueError(
                        f"the response body from {self.url} exceeds max_size={self.max_size}"
                    ),
                )
                return False
            self.parts.append(body)
        return True

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if self.done:
            return
        if ev == EV_HTTP_CHUNK:
            msg: HttpMessage = data
            if self._take(conn, msg.body):
                conn.delete_chunk()
        elif ev == EV_HTTP_REPLY:
            msg = data
            if not self._take(conn, msg.body):
                return
            response = Response(
                msg.status, msg.status_text, msg.headers, b"".join(self.parts), msg.proto, self.url
            )
            self.parts = []
            self._finish(conn, response)
        elif ev == EV_CONNECT and data != 0:
            if data == -1:
                err: OSError = ConnectionError(f"cannot resolve the host of {self.url}")
            else:
                err = OSError(data, f"{os.strerror(data)}: {self.url}")
            self._finish(conn, error=err)
        elif ev == EV_CLOSE:
            self._finish(
                conn,
                error=ConnectionError(
                    f"the connection to {self.url} closed before a complete response "
                    "(the server closed early or sent a malformed response)"
                ),
            )


def _start(
    mgr: Manager,
    method: str,
    url: str,
    headers: HeadersLike | None,
    body: Any,
    json: Any,
    max_size: int | None,
    on_done: Callable[[], None] | None = None,
) -> _Exchange:
    headers, body = _prepare(headers, body, json)
    exchange = _Exchange(url, max_size, on_done)
    mgr.connect_http(url, exchange, method=method, headers=headers, body=body)
    return exchange


def _target(url: str) -> str:
    """The request target (path and query) of ``url``, as the client sends it."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


def _no_userinfo(url: str) -> str:
    """``url`` without a ``user:pass@`` part (the repeat sends its own Authorization)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, tail = rest.partition("/")
    authority = authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{tail}"


class _Challenged(Protocol):
    """What _auth_retry reads of a response (a Response, or mgio.aio's FetchResponse)."""

    status: int
    headers: Headers


def _auth_retry(
    method: str,
    url: str,
    headers: HeadersLike | None,
    response: _Challenged | None,
    auth: tuple[str, str] | None,
) -> list[tuple[str, str]] | None:
    """The headers of the one repeat of a request answered 401, with the Authorization
    that answers its challenge; None when there is nothing to retry."""
    if auth is None or response is None or response.status != 401:
        return None
    from .auth import authorization_for

    value = authorization_for(
        method, _target(url), response.headers.getall("www-authenticate", []), *auth
    )
    if value is None:
        return None
    fields = [
        (k, v)
        for k, v in (Headers(headers).items() if headers is not None else [])
        if k.lower() != "authorization"
    ]
    fields.append(("Authorization", value))
    return fields


def request(
    method: str,
    url: str,
    headers: HeadersLike | None = None,
    body: bytes | bytearray | memoryview | str | None = None,
    timeout: float = 10.0,
    *,
    json: Any = None,
    max_size: int | None = None,
    auth: tuple[str, str] | None = None,
    follow_redirects: bool = False,
    max_redirects: int = 5,
) -> Response:
    """Send one HTTP request and return the complete :class:`Response`.

    ``url`` is ``http://host[:port][/path][?query]`` (``user:pass@`` adds Basic auth; no
    TLS). ``headers`` is a mapping or (name, value) pairs (CR/LF are refused with
    ValueError); ``body`` bytes-like or str (UTF-8, text/plain unless a Content-Type is
    given); ``json`` an object sent as application/json instead. Raises TimeoutError
    when the whole exchange (redirects and the auth repeat included) takes longer than
    ``timeout`` seconds, ConnectionError (or another OSError, ConnectionRefusedError say) when the
    connection fails or closes before a complete response, and ValueError for a URL that
    is not http:// or a body over ``max_size`` bytes.

    ``auth=(user, password)``: nothing is sent preemptively (``user:pass@`` in the URL
    still sends Basic at once); when the server answers 401 with a Digest challenge
    (qop=auth, MD5 or SHA-256, RFC 7616) or a Basic one, the request is repeated once,
    on a new connection, with the matching Authorization field, and the second response
    is returned (a 401 again when the credentials are wrong). The body is therefore
    sent twice: give it as bytes or str (a bytes-like object must not change meanwhile).

    Redirects are returned as they are unless ``follow_redirects=True``: then up to
    ``max_redirects`` are followed (more raise :class:`mgio.TooManyRedirects`), each on
    a new connection; 301 and 302 turn a POST into a GET and 303 anything but HEAD
    (the body is dropped), 307 and 308 repeat the method and the body; the
    Authorization field and ``auth`` are not sent to another host, port or scheme; a
    Location that is not http:// is not followed. ``response.url`` is the last URL
    requested and ``response.history`` the (status, url) of each redirect.
    """
    deadline = time.monotonic() + timeout
    prepared, body = _prepare(headers, body, json)
    fields = list(Headers(prepared).items()) if prepared is not None else []
    redirects = Redirects(follow_redirects, max_redirects)
    while True:
        response = _request_once(method, url, fields, body, max_size, deadline, timeout)
        retry = _auth_retry(method, url, fields, response, auth)
        if retry is not None:
            url, fields = _no_userinfo(url), retry
            response = _request_once(method, url, fields, body, max_size, deadline, timeout)
        location = response.headers.get("location")
        hop = redirects.follow(response.status, url, next_hop(
            response.status, location, method, url, fields, body, True))
        if hop is None:
            response.history = redirects.history
            return response
        method, url, fields, body = hop.method, hop.url, hop.headers, hop.body
        if not hop.same_origin:
            auth = None


def _request_once(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    max_size: int | None,
    deadline: float,
    timeout: float,
) -> Response:
    with Manager() as mgr:
        exchange = _start(mgr, method, url, headers, body, None, max_size)
        while not exchange.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response from {url} within {timeout} s")
            mgr.poll(max(1, min(int(left * 1000) + 1, 1000)))
    if exchange.error is not None:
        raise exchange.error
    assert exchange.response is not None
    return exchange.response
