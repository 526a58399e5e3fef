"""WebSocket errors, shared by the handler API (``Connection.send_ws``) and :mod:`mgio.aio`.

``WebSocketError`` is a :class:`ConnectionError`; ``WebSocketClosed`` and
``WebSocketHandshakeError`` are the two ways a WebSocket ends or never opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .headers import Headers

__all__ = ["OK_CLOSE_CODES", "WebSocketClosed", "WebSocketError", "WebSocketHandshakeError"]

#: Close codes that end a WebSocket normally: ``async for`` stops on them instead of
#: raising (1000 normal closure, 1001 going away, 1005 a Close without a code).
OK_CLOSE_CODES = frozenset({1000, 1001, 1005})


class WebSocketError(ConnectionError):
    """A WebSocket operation that cannot be done: the connection is not an open
    WebSocket (not upgraded yet, or a plain connection), or its closing handshake has
    started so no more frames may be sent."""


class WebSocketClosed(WebSocketError):
    """The WebSocket is closed. ``code`` and ``reason`` come from the peer's Close frame
    (when this side closed first, the code the peer echoed); ``code`` is 1006 when the
    connection ended without a Close."""

    def __init__(self, code: int = 1006, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        text = f"the WebSocket is closed (code {code}"
        super().__init__(text + (f", reason {reason!r})" if reason else ")"))

    @property
    def ok(self) -> bool:
        """True for a normal closure (code 1000, 1001 or 1005)."""
        return self.code in OK_CLOSE_CODES


class WebSocketHandshakeError(WebSocketError):
    """The server did not open the WebSocket: ``status`` is its answer's status code
    (426 or 400 for a refused upgrade, 403, 404, ...), or 0 when its 101 did not
    complete the handshake (a wrong Sec-WebSocket-Accept, a subprotocol that was not
    offered, an invalid extension); ``headers`` are the answer's fields (or None when no
    answer arrived)."""

    def __init__(self, status: int, headers: Headers | None = None, message: str = "") -> None:
        self.status = status
        self.headers = headers
        super().__init__(
            message
            or (
                f"the server refused the WebSocket upgrade with status {status}"
                if status
                else "the server's answer did not complete the WebSocket handshake"
            )
        )
