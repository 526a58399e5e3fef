"""Handler: a base class whose on_* methods receive a connection's events."""

from __future__ import annotations

from typing import Any, ClassVar

from ._core import Connection
from .events import Event, event_bit

_METHODS = {
    Event.POLL: "on_poll",
    Event.ACCEPT: "on_accept",
    Event.CONNECT: "on_connect",
    Event.RECV: "on_recv",
    Event.SEND: "on_send",
    Event.CLOSE: "on_close",
    Event.TIMER: "on_timer",
    Event.HTTP_REQUEST: "on_http_request",
    Event.HTTP_REPLY: "on_http_reply",
    Event.HTTP_CHUNK: "on_http_chunk",
    Event.WEBSOCKET_HANDSHAKE_REQUEST: "on_ws_handshake_request",
    Event.WEBSOCKET_HANDSHAKE_DONE: "on_ws_open",
    Event.WEBSOCKET_FRAME: "on_ws_message",
    Event.WEBSOCKET_CONTROL_FRAME: "on_ws_control",
    Event.HTTP_MULTIPART_REQUEST: "on_http_multipart_request",
    Event.HTTP_PART_BEGIN: "on_http_part_begin",
    Event.HTTP_PART_DATA: "on_http_part_data",
    Event.HTTP_PART_END: "on_http_part_end",
    Event.HTTP_MULTIPART_REQUEST_END: "on_http_multipart_request_end",
}

# The table is indexed by event number (a tuple lookup is the cheapest dispatch).
_TABLE_SIZE = max(Event) + 1


def _on_close_adapter(method: Any) -> Any:
    """on_close takes no data; the table calls every entry with (self, conn, data)."""

    def call(self: Handler, conn: Connection, data: Any) -> None:
        method(self, conn)

    return call


class Handler:
    """Subclass and define the events you care about; the rest are never delivered (the
    manager skips them without a Python call).

    ``on_accept(conn, address)``, ``on_connect(conn, status)``, ``on_recv(conn, count)``,
    ``on_send(conn, count)``, ``on_close(conn)``, ``on_timer(conn, when)``,
    ``on_poll(conn, now)`` (with ``Manager(poll_events=True)``), and on HTTP connections
    ``on_http_request(conn, msg)`` (server), ``on_http_reply(conn, msg)`` (client) and
    ``on_http_chunk(conn, msg)`` (body bytes as they arrive, both sides), where ``msg``
    is an :class:`mgio.HttpMessage`. WebSocket: ``on_ws_handshake_request(conn, msg)``
    (server: a valid upgrade request, an HttpMessage; refuse it with
    ``conn.send_error()``), ``on_ws_open(conn, msg)`` (the handshake ended: the request
    on a server; the response on a client, whose ``msg.status`` is 101 when the
    WebSocket is open), ``on_ws_message(conn, msg)`` and ``on_ws_control(conn, msg)``
    (a whole data message, and a Close/Ping/Pong frame: a
    :class:`mgio.WebSocketMessage`). Multipart request bodies (server) stream as
    ``on_http_multipart_request(conn, msg)`` (the head, an HttpMessage), then per part
    ``on_http_part_begin(conn, part)``, ``on_http_part_data(conn, part)`` (any number;
    ``part.consume(n)`` takes less), ``on_http_part_end(conn, part)``, and finally
    ``on_http_multipart_request_end(conn, part)`` (answer there), where ``part`` is an
    :class:`mgio.MultipartPart` (``part.status < 0``: the stream failed). An instance
    is a handler: pass it to ``Manager.bind``, ``Manager.connect``, ``Manager.connect_http``,
    ``Manager.connect_ws`` or ``Connection.register_endpoint``; one instance may serve
    many connections.
    """

    # Per class: a bit per event the class handles (events.event_bit), and the function
    # for each event number. The manager calls _mgio_direct[ev](self, conn, data) itself,
    # skipping __call__'s frame (about 8% of a pipelined HTTP server's time); a class
    # that defines its own __call__ has no _mgio_direct, so its __call__ always runs.
    _mgio_events: ClassVar[int] = 0
    _mgio_table: ClassVar[tuple[Any, ...]] = (None,) * _TABLE_SIZE
    _mgio_direct: ClassVar[tuple[Any, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: list[Any] = [None] * _TABLE_SIZE
        events = 0
        for ev, name in _METHODS.items():
            method = getattr(cls, name, None)
            if method is not None:
                table[ev] = _on_close_adapter(method) if ev == Event.CLOSE else method
                events |= event_bit(ev)
        cls._mgio_table = tuple(table)
        cls._mgio_events = events
        cls._mgio_direct = cls._mgio_table if cls.__call__ is Handler.__call__ else None

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        if ev < _TABLE_SIZE:
            method = self._mgio_table[ev]
            if method is not None:
                method(self, conn, data)
