"""AnswerQueue: the answers of one connection of the test server, sent in request order
(mgio.testing). Runs on the server thread only.

A delayed answer, or a streamed one, holds back the answers of later requests pipelined
on the same connection (HTTP/1.1 answers in order); other connections are not held up.
Waiting uses the connection's timer (EV_TIMER), never a sleep, so the server keeps
serving meanwhile.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ._core import Connection, Manager
from ._testing_reply import Action, CloseConnection, Reply, Stream

__all__ = ["AnswerQueue"]

# A stream produces no more chunks while this many bytes wait to be sent.
_HIGH_WATER = 256 * 1024


@dataclass
class _Streaming:
    items: Iterator[bytes | str]
    interval: float
    next_at: float = 0.0


class AnswerQueue:
    """The pending answers of a connection; ``fail(text)`` reports a stream that
    raised."""

    def __init__(self, fail: Callable[[str], None]) -> None:
        self._fail = fail
        self._pending: collections.deque[tuple[float, Action]] = collections.deque()
        self._stream: _Streaming | None = None
        self._closing = False

    def push(self, conn: Connection, action: Action, delay: float) -> None:
        """Queues ``action`` to run ``delay`` seconds from now, after the earlier ones."""
        self._pending.append((Manager.time() + delay, action))
        self.pump(conn)

    def pump(self, conn: Connection) -> None:
        """Sends what is due; arms the timer for what is not (call on EV_TIMER and
        EV_SEND too)."""
        while not self._closing:
            now = Manager.time()
            if self._stream is not None:
                if not self._stream_step(conn, now):
                    return
                continue
            if not self._pending:
                return
            due, action = self._pending[0]
            if due > now:
                conn.set_timer(due)
                return
            self._pending.popleft()
            self._start(conn, action, now)

    def _start(self, conn: Connection, action: Action, now: float) -> None:
        if isinstance(action, Reply):
            conn.reply(action.status, action.body, action.header_fields())
        elif isinstance(action, Stream):
            conn.send_head(action.status, -1, action.header_fields())
            self._stream = _Streaming(iter(action.chunks), action.interval, now)
        elif isinstance(action, CloseConnection):
            self._closing = True
            self._pending.clear()
            conn.close()

    def _stream_step(self, conn: Connection, now: float) -> bool:
        """Sends the stream's next chunks; True once it has ended."""
        stream = self._stream
        assert stream is not None
        while len(conn.send_buf) < _HIGH_WATER:
            if stream.next_at > now:
                conn.set_timer(stream.next_at)
                return False
            try:
                chunk = next(stream.items)
            except StopIteration:
                conn.send_chunk(b"")
                self._stream = None
                return True
            except Exception as e:  # the test's iterator: report it, cut the response
                self._fail(f"a streamed response's iterator raised {e!r}")
                self._closing = True
                conn.close(immediately=True)
                return False
            if chunk:  # an empty chunk would end the body
                conn.send_chunk(chunk)
            if stream.interval:
                stream.next_at = now + stream.interval
        return False  # EV_SEND resumes once the client has read
