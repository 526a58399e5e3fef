"""The access log of ``mgio serve``: one Common Log Format-like line per request."""

from __future__ import annotations

import time
from typing import NamedTuple, TextIO

from ._core import Connection, HttpMessage


class RequestLine(NamedTuple):
    """What the log says about a request: its method, target and protocol."""

    method: str
    target: str
    proto: str

    @classmethod
    def of(cls, msg: HttpMessage) -> RequestLine:
        """The request line of `msg` (the target with its query string)."""
        target = msg.uri + (f"?{msg.query_string}" if msg.query_string else "")
        return cls(msg.method, target, msg.proto)


def queued_status(conn: Connection, queued: int) -> str:
    """The status of the response head queued at offset `queued` of the send buffer
    (where it was before the answer was queued), or "-" when there is none."""
    head = bytes(conn.send_buf[queued : queued + 12])
    return head[9:12].decode("ascii", "replace") if head.startswith(b"HTTP/") else "-"


class AccessLog:
    """Writes the lines to `stream`; ``AccessLog(None)`` logs nothing."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def write(self, conn: Connection, request: RequestLine, status: str | int) -> None:
        """One line: peer, time, request line, status."""
        if self.stream is None:
            return
        peer = conn.remote_address
        host = peer[0] if peer else "-"
        when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        method, target, proto = request
        self.stream.write(f'{host} - - [{when}] "{method} {target} {proto}" {status}\n')
        self.stream.flush()

    def answered(self, conn: Connection, request: RequestLine, queued: int) -> None:
        """Logs the status of the answer queued since send_buf held `queued` bytes."""
        self.write(conn, request, queued_status(conn, queued))
