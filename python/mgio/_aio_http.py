"""The request and response of :func:`mgio.aio.serve` handlers: :class:`Request`,
:class:`Response`, and how a handler's return value becomes a Response."""

from __future__ import annotations

import base64
import binascii
import json as _json
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any
from urllib.parse import parse_qsl

from ._core import HttpMessage
from .headers import Headers, HeadersLike

__all__ = ["Body", "HandlerResult", "Request", "Response", "as_response"]

# What Response(body=...) takes: bytes-like or str (sent whole, with Content-Length), an
# object sent as JSON (dict or list), or an async iterator of bytes/str sent chunked.
Body = (
    bytes
    | bytearray
    | memoryview
    | str
    | dict[str, Any]
    | list[Any]
    | AsyncIterable[bytes | str]
    | None
)

_FRAMING_FIELDS = ("content-length", "transfer-encoding")


class Request:
    """An HTTP request as a :func:`mgio.aio.serve` handler gets it (a copy: it stays
    valid after the handler returns).

    ``method`` ("GET"), ``path`` (the target up to '?', percent-encoded as sent),
    ``query_string`` (after '?'), ``query`` (its fields decoded, first value of each),
    ``headers`` (:class:`mgio.Headers`), ``body`` (bytes), ``http_version``
    ("HTTP/1.1"), ``remote_address`` ((host, port)); ``text`` and ``json()`` decode
    the body.
    """

    __slots__ = (
        "body",
        "headers",
        "http_version",
        "keep_alive",
        "method",
        "path",
        "query_string",
        "remote_address",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str = "",
        headers: Headers | None = None,
        body: bytes = b"",
        http_version: str = "HTTP/1.1",
        remote_address: tuple[str, int] | None = None,
        keep_alive: bool = True,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.http_version = http_version
        self.remote_address = remote_address
        self.keep_alive = keep_alive

    @classmethod
    def from_message(cls, msg: HttpMessage, remote: tuple[str, int] | None) -> Request:
        """A Request copied out of the C layer's message."""
        return cls(
            msg.method,
            msg.uri,
            msg.query_string,
            msg.headers,
            msg.body,
            msg.proto,
            remote,
            msg.keep_alive,
        )

    @property
    def uri(self) -> str:
        """The same as ``path`` (the :class:`mgio.HttpMessage` name), so the helpers of
        :mod:`mgio.auth` (``DigestAuth.check``, ``check_basic``) take a Request."""
        return self.path

    @property
    def query(self) -> dict[str, str]:
        """The query string's fields, decoded; the first value of a repeated one."""
        out: dict[str, str] = {}
        for key, value in parse_qsl(self.query_string, keep_blank_values=True):
            out.setdefault(key, value)
        return out

    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) of a Basic Authorization field; None when absent or invalid
        (as :meth:`mgio.HttpMessage.basic_auth`)."""
        scheme, _, token = self.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            plain = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, password = plain.partition(":")
        return (user, password) if colon and user else None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes become U+FFFD)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (``json.loads`` keyword arguments are passed on)."""
        return _json.loads(self.body, **kwargs)

    def __repr__(self) -> str:
        return f"<mgio.aio.Request {self.method} {self.path!r} body={len(self.body)} bytes>"


class Response:
    """What a :func:`mgio.aio.serve` handler answers with.

    ``Response(status=200, body=b"", headers=None, *, content_type=None)``: ``body``
    is bytes-like (sent with Content-Length), str (UTF-8, text/plain), a dict or list
    (JSON, application/json), or an async iterator of bytes/str chunks, sent with the
    chunked transfer coding as they come, in bounded memory (the handler's task
    waits while the client is slow). ``headers`` is a mapping or (name, value)
    pairs; Content-Length and Transfer-Encoding are set by mgio, not given.
    ``Connection: close`` in ``headers`` closes the connection after this response.
    """

    __slots__ = ("body", "headers", "status", "stream")

    def __init__(
        self,
        status: int = 200,
        body: Body = b"",
        headers: HeadersLike | None = None,
        *,
        content_type: str | None = None,
    ) -> None:
        if not 100 <= status <= 999:
            raise ValueError(f"status must be in 100..999, not {status}")
        fields = list(Headers(headers).items()) if headers is not None else []
        for name, _ in fields:
            if name.lower() in _FRAMING_FIELDS:
                raise ValueError(f"{name!r} is set by mgio from the body")
        self.status = status
        self.stream: AsyncIterable[bytes | str] | None = None
        self.body = b""
        default_type = self._take_body(body)
        content_type = content_type or default_type
        if content_type and not any(n.lower() == "content-type" for n, _ in fields):
            fields.append(("Content-Type", content_type))
        self.headers = fields
        if (status < 200 or status in (204, 304)) and (self.body or self.stream):
            raise ValueError(f"a {status} response has no body")

    def _take_body(self, body: Body) -> str | None:
        """Stores ``body``; returns the Content-Type its kind implies, if any."""
        if body is None:
            return None
        if isinstance(body, (bytes, bytearray, memoryview)):
            self.body = bytes(body)
            return None
        if isinstance(body, str):
            self.body = body.encode()
            return "text/plain; charset=utf-8"
        if isinstance(body, (dict, list)):
            self.body = _json.dumps(body).encode()
            return "application/json"
        if isinstance(body, AsyncIterable):
            self.stream = body
            return None
        raise TypeError(f"cannot send a {type(body).__name__} as a response body")

    @property
    def closes(self) -> bool:
        """True when the headers ask for the connection to close after this response."""
        return any(n.lower() == "connection" and "close" in v.lower() for n, v in self.headers)

    def __repr__(self) -> str:
        kind = "stream" if self.stream is not None else f"{len(self.body)} bytes"
        return f"<mgio.aio.Response {self.status} {kind}>"


# What a handler may return: a Response, or what Response(200, ...) takes as a body.
HandlerResult = Response | Body


def as_response(result: object) -> Response:
    """The Response a handler's return value stands for (None: 204 No Content)."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(204, b"")
    return Response(200, result)  # type: ignore[arg-type]


async def aiter_bytes(stream: AsyncIterable[bytes | str]) -> AsyncGenerator[bytes, None]:
    """The chunks of ``stream`` as bytes (str as UTF-8), empty ones left out. Closing
    this generator closes the stream's iterator too (an async generator's ``finally``
    runs then, not whenever it is collected)."""
    it = aiter(stream)
    try:
        async for piece in it:
            data = piece.encode() if isinstance(piece, str) else bytes(piece)
            if data:
                yield data
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()
