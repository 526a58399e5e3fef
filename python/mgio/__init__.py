"""mgio: an embeddable, event-driven networking library with a C core.

The C core keeps the Mongoose 6 API; this package is its Python face:

- :class:`Manager` owns non-blocking connections and turns their I/O into handler calls;
  :class:`Connection` is one of them; :class:`Handler` is a base class for handlers.
- :class:`Mbuf`, the growable byte buffer behind every connection, with a writable buffer
  export (``memoryview``, ``socket.recv_into``).
- :mod:`mgio.aio` drives a manager from an asyncio event loop.
"""

from ._core import Connection, Manager, Mbuf
from ._version import __version__
from .events import (
    EV_ACCEPT,
    EV_CLOSE,
    EV_CONNECT,
    EV_POLL,
    EV_RECV,
    EV_SEND,
    EV_TIMER,
    Event,
    Flag,
)
from .handler import Handler

time = Manager.time

__all__ = [
    "EV_ACCEPT",
    "EV_CLOSE",
    "EV_CONNECT",
    "EV_POLL",
    "EV_RECV",
    "EV_SEND",
    "EV_TIMER",
    "Connection",
    "Event",
    "Flag",
    "Handler",
    "Manager",
    "Mbuf",
    "__version__",
    "time",
]
