"""WebSocketExpectation: a WebSocket endpoint of the test server (mgio.testing) that
echoes, answers scripted messages, greets, records what arrives, and sends when the
test says so."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

from ._core import Connection, WebSocketMessage
from ._testing_match import PathMatch
from ._testing_wait import Signal

__all__ = ["MessageMatch", "WebSocketExpectation", "WsData", "WsReply"]

#: A WebSocket message as recorded: str for text, bytes for binary.
WsData = str | bytes
#: Which messages a script entry answers: exact str/bytes, a regular expression (on
#: text messages, matching whole), or a predicate.
MessageMatch = str | bytes | re.Pattern[str] | Callable[[WsData], bool]
#: The answer: one message, several, or a function of the message returning either
#: (or None: no answer).
WsReply = WsData | Iterable[WsData] | Callable[[WsData], WsData | Iterable[WsData] | None]


def _message_matches(expected: MessageMatch, got: WsData) -> bool:
    if isinstance(expected, re.Pattern):
        return isinstance(got, str) and expected.fullmatch(got) is not None
    if isinstance(expected, str | bytes):
        return expected == got
    return bool(expected(got))


def _replies(reply: WsReply, got: WsData) -> list[WsData]:
    """The messages that ``reply`` sends in answer to ``got``."""
    if callable(reply):
        reply = reply(got)  # type: ignore[assignment]
        if reply is None:
            return []
    if isinstance(reply, str | bytes):
        return [reply]
    return list(reply)  # type: ignore[arg-type]


class WebSocketExpectation:
    """Upgrades on the paths it matches (``Server.expect_ws()``). Configure it from the
    test (each method returns it): :meth:`echo`, :meth:`on`, :meth:`greet`. Read
    :attr:`messages` (every message received, on any of its connections: str for
    text, bytes for binary), :attr:`connections` (how many opened) and
    :attr:`open_connections`; wait with :meth:`wait_for_messages` /
    :meth:`wait_for_connections`; push with :meth:`send` and :meth:`close`.

    A message answered by no script entry (and not echoed) is only recorded.
    ``required``: the check fails unless at least one connection opened."""

    def __init__(
        self,
        path: PathMatch | None,
        *,
        required: bool,
        url: str,
        call_soon: Callable[[Callable[[], object]], None],
        signal: Signal,
    ) -> None:
        self.path = path
        self.required = required
        self.url = url
        self._call_soon = call_soon
        self._signal = signal
        self._lock = threading.Lock()
        self._echo = False
        self._script: list[tuple[MessageMatch, WsReply]] = []
        self._greeting: list[WsData] = []
        self._messages: list[WsData] = []
        self._opened = 0
        self._conns: list[Connection] = []  # server thread only

    # ---- configuration (test thread) ---------------------------------------------------

    def echo(self, enabled: bool = True) -> WebSocketExpectation:
        """Send every message back that no script entry answers."""
        with self._lock:
            self._echo = enabled
        return self

    def on(self, message: MessageMatch, reply: WsReply) -> WebSocketExpectation:
        """When a message matches ``message``, send ``reply`` (the first matching
        entry answers)."""
        with self._lock:
            self._script.append((message, reply))
        return self

    def greet(self, *messages: WsData) -> WebSocketExpectation:
        """Send ``messages`` to every new connection as soon as it opens."""
        with self._lock:
            self._greeting.extend(messages)
        return self

    # ---- records (any thread) ----------------------------------------------------------

    @property
    def messages(self) -> list[WsData]:
        """Every message received so far, in order (a copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """How many WebSocket connections opened so far."""
        return self._opened

    @property
    def open_connections(self) -> int:
        """How many are open now."""
        return len(self._conns)

    @property
    def met(self) -> bool:
        """True unless ``required`` and no connection opened."""
        return not self.required or self._opened > 0

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[WsData]:
        """Blocks until ``count`` messages arrived; returns them all."""
        self._signal.wait_until(
            lambda: len(self._messages) >= count, timeout, f"{count} WebSocket message(s)"
        )
        return self.messages

    async def wait_for_messages_async(self, count: int, timeout: float = 5.0) -> list[WsData]:
        """:meth:`wait_for_messages` for coroutines."""
        await self._signal.wait_until_async(
            lambda: len(self._messages) >= count, timeout, f"{count} WebSocket message(s)"
        )
        return self.messages

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Blocks until ``count`` connections have opened (so that :meth:`send`
        reaches them)."""
        self._signal.wait_until(
            lambda: self._opened >= count, timeout, f"{count} WebSocket connection(s)"
        )

    # ---- pushing (any thread) ----------------------------------------------------------

    def send(self, data: WsData) -> None:
        """Send ``data`` to every open connection (from the server thread, soon)."""
        self._call_soon(lambda: self._each(lambda conn: conn.send_ws(data)))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake on every open connection."""
        self._call_soon(lambda: self._each(lambda conn: conn.ws_close(code, reason)))

    def _each(self, do: Callable[[Connection], None]) -> None:
        for conn in list(self._conns):
            if conn.is_websocket:
                do(conn)

    # ---- events (server thread) --------------------------------------------------------

    def opened(self, conn: Connection) -> None:
        """A connection of this endpoint opened."""
        self._conns.append(conn)
        with self._lock:
            self._opened += 1
            greeting = list(self._greeting)
        for message in greeting:
            conn.send_ws(message)
        self._signal.notify()

    def closed(self, conn: Connection) -> None:
        """A connection of this endpoint closed."""
        if conn in self._conns:
            self._conns.remove(conn)
        self._signal.notify()

    def received(self, conn: Connection, msg: WebSocketMessage) -> None:
        """Records a message and answers it."""
        got: WsData = msg.text if msg.is_text else msg.data
        with self._lock:
            self._messages.append(got)
            script = list(self._script)
            echo = self._echo
        for expected, reply in script:
            if _message_matches(expected, got):
                for message in _replies(reply, got):
                    conn.send_ws(message)
                break
        else:
            if echo:
                conn.send_ws(msg)
        self._signal.notify()

    def __str__(self) -> str:
        path = self.path if isinstance(self.path, str) else self.path or "*"
        return f"WebSocket {path} ({self._opened} connection(s), {len(self._messages)} message(s))"

    def __repr__(self) -> str:
        return f"<WebSocketExpectation {self}>"
