"""What the test server answers (mgio.testing): a :class:`Reply`, a :class:`Stream` (a
chunked body from an iterator) or :data:`CLOSE` (drop the connection without an answer);
a responder turns a request into one of them."""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ._testing_request import Request

__all__ = ["CLOSE", "Action", "CloseConnection", "Reply", "Responder", "Stream", "as_action"]

Fields = Mapping[str, str] | Iterable[tuple[str, str]]


def _fields(headers: Fields, content_type: str | None) -> list[tuple[str, str]]:
    """The header fields as pairs, with Content-Type added unless one is given."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    if content_type is not None and not any(k.lower() == "content-type" for k, _ in pairs):
        pairs.append(("Content-Type", content_type))
    return pairs


@dataclass(frozen=True)
class Reply:
    """A complete response: ``status``, ``body`` (bytes, or str sent as UTF-8) and
    ``headers``; ``content_type`` is added as Content-Type unless ``headers`` has one
    (by default text/plain for a str body, none for bytes)."""

    body: bytes | str = b""
    status: int = 200
    headers: Fields = ()
    content_type: str | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Fields = ()) -> Reply:
        """A JSON response (application/json) of ``data``."""
        return cls(_json.dumps(data), status, headers, "application/json")

    def header_fields(self) -> list[tuple[str, str]]:
        """The header fields to send."""
        default = "text/plain; charset=utf-8" if isinstance(self.body, str) else None
        return _fields(self.headers, self.content_type or default)


@dataclass(frozen=True)
class Stream:
    """A chunked response whose body is the items of ``chunks`` (bytes, or str sent as
    UTF-8), each sent as it is produced (the iterator runs on the server thread), with
    ``interval`` seconds between them; the next chunk waits while the client reads
    slowly."""

    chunks: Iterable[bytes | str]
    status: int = 200
    headers: Fields = ()
    content_type: str | None = None
    interval: float = 0.0

    def header_fields(self) -> list[tuple[str, str]]:
        """The header fields to send."""
        return _fields(self.headers, self.content_type)


@dataclass(frozen=True)
class CloseConnection:
    """Close the connection instead of answering (a server that went away)."""

    reason: str = field(default="closed by the expectation")


#: Close the connection instead of answering.
CLOSE: Final = CloseConnection()

#: What the server does for a request.
Action = Reply | Stream | CloseConnection
#: A function that answers a request: an Action, or a body (str or bytes) sent with 200.
Responder = Callable[[Request], Action | str | bytes]


def as_action(result: object) -> Action:
    """A responder's result as an Action; TypeError for anything else."""
    if isinstance(result, Reply | Stream | CloseConnection):
        return result
    if isinstance(result, str | bytes):
        return Reply(result)
    raise TypeError(
        f"a responder returned {type(result).__name__}: return a Reply, a Stream, "
        "mgio.testing.CLOSE, str or bytes"
    )
