"""Request: what the test server recorded of one received HTTP request (mgio.testing)."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ._core import HttpMessage
from .headers import Headers

__all__ = ["Request"]

# A body longer than this is cut in descriptions (failure messages, the 500 body).
_SHOWN_BODY = 200


@dataclass(frozen=True)
class Request:
    """One request as the test server received it: ``method``, ``path`` (the target
    before '?'), ``query_string`` (after it), ``headers`` (:class:`mgio.Headers`) and
    ``body`` (bytes, de-chunked); ``query``, ``text`` and ``json()`` decode them."""

    method: str
    path: str
    query_string: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def from_message(cls, msg: HttpMessage) -> Request:
        """A copy of a server-side HttpMessage, valid after the handler returns."""
        return cls(msg.method, msg.uri, msg.query_string, msg.headers, msg.body)

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string decoded: every name with its values in order."""
        return parse_qs(self.query_string, keep_blank_values=True)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes become U+FFFD)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        return _json.loads(self.body)

    @property
    def target(self) -> str:
        """The request target as sent: path, and '?query' when there is one."""
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    def describe(self) -> str:
        """A few readable lines: the request line, the header fields, the body."""
        lines = [f"{self.method} {self.target}"]
        lines += [f"    {name}: {value}" for name, value in self.headers.items()]
        if self.body:
            body = self.body[:_SHOWN_BODY]
            more = f" ... ({len(self.body)} bytes)" if len(self.body) > _SHOWN_BODY else ""
            lines.append(f"    body: {body!r}{more}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.method} {self.target}"
