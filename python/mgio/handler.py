"""Handler: a base class whose on_* methods receive a connection's events."""

from __future__ import annotations

from typing import Any, ClassVar

from ._core import Connection
from .events import Event

_METHODS = {
    Event.POLL: "on_poll",
    Event.ACCEPT: "on_accept",
    Event.CONNECT: "on_connect",
    Event.RECV: "on_recv",
    Event.SEND: "on_send",
    Event.CLOSE: "on_close",
    Event.TIMER: "on_timer",
}


class Handler:
    """Subclass and define the events you care about; the rest are ignored.

    ``on_accept(conn, address)``, ``on_connect(conn, status)``, ``on_recv(conn, count)``,
    ``on_send(conn, count)``, ``on_close(conn)``, ``on_timer(conn, when)``,
    ``on_poll(conn, now)``. An instance is a handler: pass it to ``Manager.bind`` or
    ``Manager.connect``; one instance may serve many connections.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Resolve the methods once per class, not once per event.
        cls._mgio_methods = {ev: name for ev, name in _METHODS.items() if hasattr(cls, name)}

    _mgio_methods: ClassVar[dict[int, str]] = {}

    def __call__(self, conn: Connection, ev: int, data: Any) -> None:
        name = self._mgio_methods.get(ev)
        if name is None:
            return
        method = getattr(self, name)
        if ev == Event.CLOSE:
            method(conn)
        else:
            method(conn, data)
